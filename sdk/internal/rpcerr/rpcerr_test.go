package rpcerr_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/claude-mem/claude-mem-server/sdk/internal/rpcerr"
)

var (
	errGone = errors.New("thing: gone")
	errBusy = errors.New("thing: busy")
	table   = rpcerr.Table{
		{Err: errGone, Code: codes.NotFound, Reason: "GONE"},
		{Err: errBusy, Code: codes.FailedPrecondition, Reason: "BUSY"},
	}
)

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	tests := map[string]struct {
		in       error
		code     codes.Code
		sentinel error
		mention  string
	}{
		"sentinel":            {errGone, codes.NotFound, errGone, "gone"},
		"wrapped sentinel":    {fmt.Errorf("get job 7: %w", errBusy), codes.FailedPrecondition, errBusy, "get job 7"},
		"same code, other":    {errBusy, codes.FailedPrecondition, errBusy, "busy"},
		"canceled":            {fmt.Errorf("reserve: %w", context.Canceled), codes.Canceled, context.Canceled, "reserve"},
		"deadline":            {context.DeadlineExceeded, codes.DeadlineExceeded, context.DeadlineExceeded, "deadline"},
		"unknown stays plain": {errors.New("disk on fire"), codes.Unknown, nil, "disk on fire"},
	}
	for name, tc := range tests {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			wire := table.ToStatus(tc.in)
			if got := status.Code(wire); got != tc.code {
				t.Fatalf("code %s, want %s", got, tc.code)
			}
			back := table.FromStatus(wire)
			if tc.sentinel != nil && !errors.Is(back, tc.sentinel) {
				t.Fatalf("FromStatus(%v) = %v, not %v", wire, back, tc.sentinel)
			}
			if tc.sentinel == nil && (errors.Is(back, errGone) || errors.Is(back, errBusy)) {
				t.Fatalf("an unknown error came back as a sentinel: %v", back)
			}
			if !strings.Contains(back.Error(), tc.mention) {
				t.Fatalf("message %q lost %q", back, tc.mention)
			}
		})
	}
}

func TestNilAndTransport(t *testing.T) {
	t.Parallel()
	if table.ToStatus(nil) != nil || table.FromStatus(nil) != nil {
		t.Fatal("nil must stay nil")
	}
	unavailable := status.Error(codes.Unavailable, "connection refused")
	if got := table.FromStatus(unavailable); status.Code(got) != codes.Unavailable {
		t.Fatalf("a transport error must pass through: %v", got)
	}
}
