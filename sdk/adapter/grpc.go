package adapter

import (
	"context"
	"encoding/json"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/claude-mem/claude-mem-server/sdk/event"
	"github.com/claude-mem/claude-mem-server/sdk/internal/pb/adapterv1"
	"github.com/claude-mem/claude-mem-server/sdk/internal/pb/eventv1"
	"github.com/claude-mem/claude-mem-server/sdk/internal/rpcerr"
	"github.com/claude-mem/claude-mem-server/sdk/internal/wiretime"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

var errTable = rpcerr.Table{
	{Err: ErrUnknownEvent, Code: codes.InvalidArgument, Reason: "UNKNOWN_EVENT"},
	{Err: plugin.ErrNotConfigured, Code: codes.FailedPrecondition, Reason: "NOT_CONFIGURED"},
}

type grpcServer struct {
	adapterv1.UnimplementedAdapterServer
	impl *plugin.Lazy[Adapter]
}

func (s *grpcServer) Manifest(ctx context.Context, _ *adapterv1.ManifestRequest) (*adapterv1.ManifestResponse, error) {
	a, err := s.impl.Get()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	m, err := a.Manifest(ctx)
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &adapterv1.ManifestResponse{Source: m.Source, Events: m.Events}, nil
}

func (s *grpcServer) Normalize(ctx context.Context, req *adapterv1.NormalizeRequest) (*adapterv1.NormalizeResponse, error) {
	a, err := s.impl.Get()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	res, err := a.Normalize(ctx, NormalizeRequest{Source: req.GetSource(), Event: req.GetEvent(), Raw: req.GetRaw()})
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	out := &adapterv1.NormalizeResponse{Rejection: res.Rejection, Events: make([]*eventv1.AgentEvent, len(res.Events))}
	for i, e := range res.Events {
		out.Events[i] = eventToProto(e)
	}
	return out, nil
}

func (s *grpcServer) RenderHookOutput(ctx context.Context, req *adapterv1.RenderHookOutputRequest) (*adapterv1.RenderHookOutputResponse, error) {
	a, err := s.impl.Get()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	out, err := a.RenderHookOutput(ctx, RenderRequest{Event: req.GetEvent(), AgentEvent: eventFromProto(req.GetAgentEvent()), Context: req.GetContext()})
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &adapterv1.RenderHookOutputResponse{Output: out}, nil
}

type grpcClient struct {
	c adapterv1.AdapterClient
}

var _ Adapter = (*grpcClient)(nil)

// NewClient wraps a gRPC connection to an adapter plugin as an Adapter.
func NewClient(conn *grpc.ClientConn) Adapter {
	return &grpcClient{c: adapterv1.NewAdapterClient(conn)}
}

func (c *grpcClient) Manifest(ctx context.Context) (Manifest, error) {
	resp, err := c.c.Manifest(ctx, &adapterv1.ManifestRequest{})
	if err != nil {
		return Manifest{}, errTable.FromStatus(err)
	}
	return Manifest{Source: resp.GetSource(), Events: resp.GetEvents()}, nil
}

func (c *grpcClient) Normalize(ctx context.Context, req NormalizeRequest) (NormalizeResult, error) {
	resp, err := c.c.Normalize(ctx, &adapterv1.NormalizeRequest{Source: req.Source, Event: req.Event, Raw: req.Raw})
	if err != nil {
		return NormalizeResult{}, errTable.FromStatus(err)
	}
	res := NormalizeResult{Rejection: resp.GetRejection(), Events: make([]event.AgentEvent, len(resp.GetEvents()))}
	for i, e := range resp.GetEvents() {
		res.Events[i] = eventFromProto(e)
	}
	return res, nil
}

func (c *grpcClient) RenderHookOutput(ctx context.Context, req RenderRequest) ([]byte, error) {
	resp, err := c.c.RenderHookOutput(ctx, &adapterv1.RenderHookOutputRequest{Event: req.Event, AgentEvent: eventToProto(req.AgentEvent), Context: req.Context})
	if err != nil {
		return nil, errTable.FromStatus(err)
	}
	return resp.GetOutput(), nil
}

func eventToProto(e event.AgentEvent) *eventv1.AgentEvent {
	return &eventv1.AgentEvent{
		SchemaVersion: event.SchemaVersion, Type: string(e.Type), HookEvent: e.HookEvent, PlatformSource: e.PlatformSource,
		ContentSessionId: e.ContentSessionID, Cwd: e.Cwd, Project: e.Project, Text: e.Text,
		ToolName: e.ToolName, ToolUseId: e.ToolUseID, ToolInput: e.ToolInput, ToolResponse: e.ToolResponse,
		OccurredAtUnixMs: wiretime.ToMS(e.OccurredAt), IdempotencyKey: e.IdempotencyKey, AgentId: e.AgentID,
		AgentType: e.AgentType, TranscriptPath: e.TranscriptPath, Metadata: e.Metadata,
	}
}

func eventFromProto(e *eventv1.AgentEvent) event.AgentEvent {
	return event.AgentEvent{
		SchemaVersion: int(e.GetSchemaVersion()), Type: event.Type(e.GetType()), HookEvent: e.GetHookEvent(),
		PlatformSource: e.GetPlatformSource(), ContentSessionID: e.GetContentSessionId(), Cwd: e.GetCwd(),
		Project: e.GetProject(), Text: e.GetText(), ToolName: e.GetToolName(), ToolUseID: e.GetToolUseId(),
		ToolInput: rawJSON(e.GetToolInput()), ToolResponse: rawJSON(e.GetToolResponse()),
		OccurredAt: wiretime.FromMS(e.GetOccurredAtUnixMs()), IdempotencyKey: e.GetIdempotencyKey(),
		AgentID: e.GetAgentId(), AgentType: e.GetAgentType(), TranscriptPath: e.GetTranscriptPath(), Metadata: e.GetMetadata(),
	}
}

// rawJSON keeps an absent payload absent rather than an empty, invalid one.
func rawJSON(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}
