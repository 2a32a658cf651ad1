package auth

import (
	"context"
	"unicode/utf8"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/claude-mem/claude-mem-server/sdk/internal/pb/authv1"
	"github.com/claude-mem/claude-mem-server/sdk/internal/rpcerr"
	"github.com/claude-mem/claude-mem-server/sdk/internal/wiretime"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

var errTable = rpcerr.Table{
	{Err: ErrUnauthenticated, Code: codes.Unauthenticated, Reason: "UNAUTHENTICATED"},
	{Err: ErrNotFound, Code: codes.NotFound, Reason: "KEY_NOT_FOUND"},
	{Err: ErrInvalidSpec, Code: codes.InvalidArgument, Reason: "INVALID_KEY_SPEC"},
	{Err: ErrUnsupported, Code: codes.Unimplemented, Reason: "UNSUPPORTED"},
	{Err: plugin.ErrNotConfigured, Code: codes.FailedPrecondition, Reason: "NOT_CONFIGURED"},
}

type grpcServer struct {
	authv1.UnimplementedAuthServer
	impl *plugin.Lazy[Provider]
}

func (s *grpcServer) Authenticate(ctx context.Context, req *authv1.AuthenticateRequest) (*authv1.AuthenticateResponse, error) {
	p, err := s.impl.Get()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	pr, err := p.Authenticate(ctx, req.GetCredential())
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &authv1.AuthenticateResponse{Principal: &authv1.Principal{
		SchemaVersion: SchemaVersion, KeyId: pr.KeyID, TeamId: pr.TeamID, ProjectId: pr.ProjectID,
		Scopes: pr.Scopes, Actor: pr.Actor, ExpiresAtUnixMs: wiretime.ToMS(pr.ExpiresAt),
	}}, nil
}

func (s *grpcServer) CreateKey(ctx context.Context, req *authv1.CreateKeyRequest) (*authv1.CreateKeyResponse, error) {
	p, err := s.impl.Get()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	k, secret, err := p.CreateKey(ctx, KeySpec{
		TeamID: req.GetTeamId(), ProjectID: req.GetProjectId(), Name: req.GetName(), Actor: req.GetActor(),
		Scopes: req.GetScopes(), ExpiresAt: wiretime.FromMS(req.GetExpiresAtUnixMs()),
	})
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &authv1.CreateKeyResponse{Key: keyToProto(k), Secret: secret}, nil
}

func (s *grpcServer) ListKeys(ctx context.Context, req *authv1.ListKeysRequest) (*authv1.ListKeysResponse, error) {
	p, err := s.impl.Get()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	keys, err := p.ListKeys(ctx, req.GetTeamId())
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	out := &authv1.ListKeysResponse{Keys: make([]*authv1.Key, len(keys))}
	for i, k := range keys {
		out.Keys[i] = keyToProto(k)
	}
	return out, nil
}

func (s *grpcServer) RevokeKey(ctx context.Context, req *authv1.RevokeKeyRequest) (*authv1.RevokeKeyResponse, error) {
	p, err := s.impl.Get()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	if err := p.RevokeKey(ctx, req.GetId()); err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &authv1.RevokeKeyResponse{}, nil
}

type grpcClient struct {
	c authv1.AuthClient
}

var _ Provider = (*grpcClient)(nil)

// NewClient wraps a gRPC connection to an auth plugin as a Provider.
func NewClient(conn *grpc.ClientConn) Provider { return &grpcClient{c: authv1.NewAuthClient(conn)} }

func (c *grpcClient) Authenticate(ctx context.Context, credential string) (Principal, error) {
	// auth.v1 carries credentials as proto3 strings, which must be UTF-8.
	// An HTTP header can hold any bytes; such a credential cannot be a key.
	if !utf8.ValidString(credential) {
		return Principal{}, ErrUnauthenticated
	}
	resp, err := c.c.Authenticate(ctx, &authv1.AuthenticateRequest{Credential: credential})
	if err != nil {
		return Principal{}, errTable.FromStatus(err)
	}
	p := resp.GetPrincipal()
	return Principal{
		SchemaVersion: int(p.GetSchemaVersion()), KeyID: p.GetKeyId(), TeamID: p.GetTeamId(),
		ProjectID: p.GetProjectId(), Scopes: p.GetScopes(), Actor: p.GetActor(), ExpiresAt: wiretime.FromMS(p.GetExpiresAtUnixMs()),
	}, nil
}

func (c *grpcClient) CreateKey(ctx context.Context, spec KeySpec) (Key, string, error) {
	resp, err := c.c.CreateKey(ctx, &authv1.CreateKeyRequest{
		TeamId: spec.TeamID, ProjectId: spec.ProjectID, Name: spec.Name, Actor: spec.Actor,
		Scopes: spec.Scopes, ExpiresAtUnixMs: wiretime.ToMS(spec.ExpiresAt),
	})
	if err != nil {
		return Key{}, "", errTable.FromStatus(err)
	}
	return keyFromProto(resp.GetKey()), resp.GetSecret(), nil
}

func (c *grpcClient) ListKeys(ctx context.Context, teamID string) ([]Key, error) {
	resp, err := c.c.ListKeys(ctx, &authv1.ListKeysRequest{TeamId: teamID})
	if err != nil {
		return nil, errTable.FromStatus(err)
	}
	out := make([]Key, len(resp.GetKeys()))
	for i, k := range resp.GetKeys() {
		out[i] = keyFromProto(k)
	}
	return out, nil
}

func (c *grpcClient) RevokeKey(ctx context.Context, id string) error {
	_, err := c.c.RevokeKey(ctx, &authv1.RevokeKeyRequest{Id: id})
	return errTable.FromStatus(err)
}

// Close is a no-op on the host side; the supervisor owns the process.
func (c *grpcClient) Close() error { return nil }

func keyToProto(k Key) *authv1.Key {
	return &authv1.Key{
		Id: k.ID, Prefix: k.Prefix, Name: k.Name, TeamId: k.TeamID, ProjectId: k.ProjectID, Actor: k.Actor,
		Scopes: k.Scopes, CreatedAtUnixMs: wiretime.ToMS(k.CreatedAt), ExpiresAtUnixMs: wiretime.ToMS(k.ExpiresAt),
		RevokedAtUnixMs: wiretime.ToMS(k.RevokedAt), LastUsedAtUnixMs: wiretime.ToMS(k.LastUsedAt),
	}
}

func keyFromProto(k *authv1.Key) Key {
	return Key{
		ID: k.GetId(), Prefix: k.GetPrefix(), Name: k.GetName(), TeamID: k.GetTeamId(), ProjectID: k.GetProjectId(),
		Actor: k.GetActor(), Scopes: k.GetScopes(), CreatedAt: wiretime.FromMS(k.GetCreatedAtUnixMs()),
		ExpiresAt: wiretime.FromMS(k.GetExpiresAtUnixMs()), RevokedAt: wiretime.FromMS(k.GetRevokedAtUnixMs()),
		LastUsedAt: wiretime.FromMS(k.GetLastUsedAtUnixMs()),
	}
}
