package queue

import (
	"context"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"

	"github.com/claude-mem/claude-mem-server/sdk/internal/pb/queuev1"
	"github.com/claude-mem/claude-mem-server/sdk/internal/rpcerr"
	"github.com/claude-mem/claude-mem-server/sdk/internal/wiretime"
	"github.com/claude-mem/claude-mem-server/sdk/plugin"
)

var errTable = rpcerr.Table{
	{Err: ErrNotFound, Code: codes.NotFound, Reason: "JOB_NOT_FOUND"},
	{Err: ErrLeaseLost, Code: codes.FailedPrecondition, Reason: "LEASE_LOST"},
	{Err: ErrInvalidState, Code: codes.FailedPrecondition, Reason: "INVALID_STATE"},
	{Err: ErrInvalidJob, Code: codes.InvalidArgument, Reason: "INVALID_JOB"},
	{Err: ErrClosed, Code: codes.Unavailable, Reason: "ENGINE_CLOSED"},
	{Err: plugin.ErrNotConfigured, Code: codes.FailedPrecondition, Reason: "NOT_CONFIGURED"},
}

// grpcServer serves an Engine that exists once the plugin is configured.
type grpcServer struct {
	queuev1.UnimplementedQueueServer
	impl *plugin.Lazy[Engine]
}

func (s *grpcServer) engine() (Engine, error) { return s.impl.Get() }

func (s *grpcServer) Enqueue(ctx context.Context, req *queuev1.EnqueueRequest) (*queuev1.EnqueueResponse, error) {
	e, err := s.engine()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	jobs := make([]NewJob, len(req.GetJobs()))
	for i, j := range req.GetJobs() {
		jobs[i] = newJobFromProto(j)
	}
	res, err := e.Enqueue(ctx, jobs)
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	out := &queuev1.EnqueueResponse{Results: make([]*queuev1.EnqueueResult, len(res))}
	for i, r := range res {
		out.Results[i] = &queuev1.EnqueueResult{Id: r.ID, Created: r.Created}
	}
	return out, nil
}

func (s *grpcServer) Reserve(ctx context.Context, req *queuev1.ReserveRequest) (*queuev1.ReserveResponse, error) {
	e, err := s.engine()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	leases, err := e.Reserve(ctx, ReserveRequest{
		Max: int(req.GetMax()), Lock: time.Duration(req.GetLockMs()) * time.Millisecond,
		Wait: time.Duration(req.GetWaitMs()) * time.Millisecond, Worker: req.GetWorker(),
	})
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	out := &queuev1.ReserveResponse{Leases: make([]*queuev1.Lease, len(leases))}
	for i, l := range leases {
		out.Leases[i] = &queuev1.Lease{Job: jobToProto(l.Job), Token: l.Token, LockedUntilUnixMs: wiretime.ToMS(l.LockedUntil)}
	}
	return out, nil
}

func (s *grpcServer) Extend(ctx context.Context, req *queuev1.ExtendRequest) (*queuev1.ExtendResponse, error) {
	e, err := s.engine()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	until, err := e.Extend(ctx, req.GetId(), req.GetToken(), time.Duration(req.GetLockMs())*time.Millisecond)
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &queuev1.ExtendResponse{LockedUntilUnixMs: wiretime.ToMS(until)}, nil
}

func (s *grpcServer) Complete(ctx context.Context, req *queuev1.CompleteRequest) (*queuev1.CompleteResponse, error) {
	e, err := s.engine()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	if err := e.Complete(ctx, req.GetId(), req.GetToken()); err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &queuev1.CompleteResponse{}, nil
}

func (s *grpcServer) Fail(ctx context.Context, req *queuev1.FailRequest) (*queuev1.FailResponse, error) {
	e, err := s.engine()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	res, err := e.Fail(ctx, req.GetId(), req.GetToken(), Failure{Reason: req.GetReason(), Retryable: req.GetRetryable()})
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &queuev1.FailResponse{State: queuev1.State(res.State), AvailableAtUnixMs: wiretime.ToMS(res.AvailableAt)}, nil
}

func (s *grpcServer) Get(ctx context.Context, req *queuev1.GetRequest) (*queuev1.GetResponse, error) {
	e, err := s.engine()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	j, err := e.Get(ctx, req.GetId())
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &queuev1.GetResponse{Job: jobToProto(j)}, nil
}

func (s *grpcServer) Counts(ctx context.Context, req *queuev1.CountsRequest) (*queuev1.CountsResponse, error) {
	e, err := s.engine()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	c, err := e.Counts(ctx, req.GetLane())
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &queuev1.CountsResponse{Waiting: c.Waiting, Active: c.Active, Delayed: c.Delayed, Completed: c.Completed, Failed: c.Failed}, nil
}

func (s *grpcServer) Retry(ctx context.Context, req *queuev1.RetryRequest) (*queuev1.RetryResponse, error) {
	e, err := s.engine()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	if err := e.Retry(ctx, req.GetId()); err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &queuev1.RetryResponse{}, nil
}

func (s *grpcServer) Cancel(ctx context.Context, req *queuev1.CancelRequest) (*queuev1.CancelResponse, error) {
	e, err := s.engine()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	if err := e.Cancel(ctx, req.GetId()); err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &queuev1.CancelResponse{}, nil
}

func (s *grpcServer) ClearLane(ctx context.Context, req *queuev1.ClearLaneRequest) (*queuev1.ClearLaneResponse, error) {
	e, err := s.engine()
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	n, err := e.ClearLane(ctx, req.GetLane())
	if err != nil {
		return nil, errTable.ToStatus(err)
	}
	return &queuev1.ClearLaneResponse{Removed: int64(n)}, nil
}

// grpcClient is the host's view of a queue plugin.
type grpcClient struct {
	c queuev1.QueueClient
}

var _ Engine = (*grpcClient)(nil)

// NewClient wraps a gRPC connection to a queue plugin as an Engine.
func NewClient(conn *grpc.ClientConn) Engine { return &grpcClient{c: queuev1.NewQueueClient(conn)} }

func (c *grpcClient) Enqueue(ctx context.Context, jobs []NewJob) ([]EnqueueResult, error) {
	req := &queuev1.EnqueueRequest{Jobs: make([]*queuev1.NewJob, len(jobs))}
	for i, j := range jobs {
		req.Jobs[i] = &queuev1.NewJob{
			SchemaVersion: SchemaVersion, Id: j.ID, Lane: j.Lane, Kind: j.Kind, Payload: j.Payload,
			MaxAttempts: int32(j.MaxAttempts), BackoffMs: j.Backoff.Milliseconds(),
		}
	}
	resp, err := c.c.Enqueue(ctx, req)
	if err != nil {
		return nil, errTable.FromStatus(err)
	}
	out := make([]EnqueueResult, len(resp.GetResults()))
	for i, r := range resp.GetResults() {
		out[i] = EnqueueResult{ID: r.GetId(), Created: r.GetCreated()}
	}
	return out, nil
}

func (c *grpcClient) Reserve(ctx context.Context, req ReserveRequest) ([]Lease, error) {
	resp, err := c.c.Reserve(ctx, &queuev1.ReserveRequest{
		Max: int32(req.Max), LockMs: req.Lock.Milliseconds(), WaitMs: req.Wait.Milliseconds(), Worker: req.Worker,
	})
	if err != nil {
		return nil, errTable.FromStatus(err)
	}
	out := make([]Lease, len(resp.GetLeases()))
	for i, l := range resp.GetLeases() {
		out[i] = Lease{Job: jobFromProto(l.GetJob()), Token: l.GetToken(), LockedUntil: wiretime.FromMS(l.GetLockedUntilUnixMs())}
	}
	return out, nil
}

func (c *grpcClient) Extend(ctx context.Context, id, token string, lock time.Duration) (time.Time, error) {
	resp, err := c.c.Extend(ctx, &queuev1.ExtendRequest{Id: id, Token: token, LockMs: lock.Milliseconds()})
	if err != nil {
		return time.Time{}, errTable.FromStatus(err)
	}
	return wiretime.FromMS(resp.GetLockedUntilUnixMs()), nil
}

func (c *grpcClient) Complete(ctx context.Context, id, token string) error {
	_, err := c.c.Complete(ctx, &queuev1.CompleteRequest{Id: id, Token: token})
	return errTable.FromStatus(err)
}

func (c *grpcClient) Fail(ctx context.Context, id, token string, f Failure) (FailResult, error) {
	resp, err := c.c.Fail(ctx, &queuev1.FailRequest{Id: id, Token: token, Reason: f.Reason, Retryable: f.Retryable})
	if err != nil {
		return FailResult{}, errTable.FromStatus(err)
	}
	return FailResult{State: State(resp.GetState()), AvailableAt: wiretime.FromMS(resp.GetAvailableAtUnixMs())}, nil
}

func (c *grpcClient) Get(ctx context.Context, id string) (Job, error) {
	resp, err := c.c.Get(ctx, &queuev1.GetRequest{Id: id})
	if err != nil {
		return Job{}, errTable.FromStatus(err)
	}
	return jobFromProto(resp.GetJob()), nil
}

func (c *grpcClient) Counts(ctx context.Context, lane string) (Counts, error) {
	r, err := c.c.Counts(ctx, &queuev1.CountsRequest{Lane: lane})
	if err != nil {
		return Counts{}, errTable.FromStatus(err)
	}
	return Counts{Waiting: r.GetWaiting(), Active: r.GetActive(), Delayed: r.GetDelayed(), Completed: r.GetCompleted(), Failed: r.GetFailed()}, nil
}

func (c *grpcClient) Retry(ctx context.Context, id string) error {
	_, err := c.c.Retry(ctx, &queuev1.RetryRequest{Id: id})
	return errTable.FromStatus(err)
}

func (c *grpcClient) Cancel(ctx context.Context, id string) error {
	_, err := c.c.Cancel(ctx, &queuev1.CancelRequest{Id: id})
	return errTable.FromStatus(err)
}

func (c *grpcClient) ClearLane(ctx context.Context, lane string) (int, error) {
	r, err := c.c.ClearLane(ctx, &queuev1.ClearLaneRequest{Lane: lane})
	if err != nil {
		return 0, errTable.FromStatus(err)
	}
	return int(r.GetRemoved()), nil
}

// Close is a no-op on the host side: the plugin process owns the engine and
// the host's supervisor owns the process.
func (c *grpcClient) Close() error { return nil }

func newJobFromProto(j *queuev1.NewJob) NewJob {
	return NewJob{
		ID: j.GetId(), Lane: j.GetLane(), Kind: j.GetKind(), Payload: j.GetPayload(),
		MaxAttempts: int(j.GetMaxAttempts()), Backoff: time.Duration(j.GetBackoffMs()) * time.Millisecond,
	}
}

func jobToProto(j Job) *queuev1.Job {
	return &queuev1.Job{
		SchemaVersion: SchemaVersion, Id: j.ID, Lane: j.Lane, Kind: j.Kind, Payload: j.Payload,
		State: queuev1.State(j.State), Attempts: int32(j.Attempts), MaxAttempts: int32(j.MaxAttempts),
		BackoffMs: j.Backoff.Milliseconds(), CreatedAtUnixMs: wiretime.ToMS(j.CreatedAt),
		AvailableAtUnixMs: wiretime.ToMS(j.AvailableAt), FinishedAtUnixMs: wiretime.ToMS(j.FinishedAt), LastError: j.LastError,
	}
}

func jobFromProto(j *queuev1.Job) Job {
	return Job{
		SchemaVersion: int(j.GetSchemaVersion()), ID: j.GetId(), Lane: j.GetLane(), Kind: j.GetKind(),
		Payload: j.GetPayload(), State: State(j.GetState()), Attempts: int(j.GetAttempts()),
		MaxAttempts: int(j.GetMaxAttempts()), Backoff: time.Duration(j.GetBackoffMs()) * time.Millisecond,
		CreatedAt: wiretime.FromMS(j.GetCreatedAtUnixMs()), AvailableAt: wiretime.FromMS(j.GetAvailableAtUnixMs()),
		FinishedAt: wiretime.FromMS(j.GetFinishedAtUnixMs()), LastError: j.GetLastError(),
	}
}
