// Package rpcerr carries the contracts' sentinel errors across the gRPC
// boundary, so that errors.Is works on the host exactly as it does in the
// plugin. Each sentinel travels as a status code plus an ErrorInfo reason.
package rpcerr

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// domain names this project's ErrorInfo reasons.
const domain = "claude-mem"

// Mapping ties one sentinel to its wire form.
type Mapping struct {
	Err    error
	Code   codes.Code
	Reason string
}

// Table is a set of mappings for one contract.
type Table []Mapping

// ToStatus converts an error returned by a plugin implementation into a gRPC
// status error. Unknown errors become codes.Unknown with their message kept.
func (t Table) ToStatus(err error) error {
	if err == nil {
		return nil
	}
	switch {
	case errors.Is(err, context.Canceled):
		return status.Error(codes.Canceled, err.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	for _, m := range t {
		if errors.Is(err, m.Err) {
			st := status.New(m.Code, err.Error())
			if withInfo, derr := st.WithDetails(&errdetails.ErrorInfo{Reason: m.Reason, Domain: domain}); derr == nil {
				st = withInfo
			}
			return st.Err()
		}
	}
	if st, ok := status.FromError(err); ok {
		return st.Err()
	}
	return status.Error(codes.Unknown, err.Error())
}

// FromStatus converts an error from a gRPC call back into the contract's
// sentinel, wrapped with the message the plugin sent. Transport failures
// (Unavailable and the like) are returned as they are.
func (t Table) FromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return err
	}
	for _, d := range st.Details() {
		info, ok := d.(*errdetails.ErrorInfo)
		if !ok || info.GetDomain() != domain {
			continue
		}
		for _, m := range t {
			if m.Reason == info.GetReason() {
				return &remoteError{sentinel: m.Err, msg: st.Message()}
			}
		}
	}
	switch st.Code() {
	case codes.Canceled:
		return fmt.Errorf("%s: %w", st.Message(), context.Canceled)
	case codes.DeadlineExceeded:
		return fmt.Errorf("%s: %w", st.Message(), context.DeadlineExceeded)
	}
	return err
}

// remoteError keeps the plugin's full message while matching its sentinel.
type remoteError struct {
	sentinel error
	msg      string
}

func (e *remoteError) Error() string {
	if strings.Contains(e.msg, e.sentinel.Error()) {
		return e.msg
	}
	return e.sentinel.Error() + ": " + e.msg
}

func (e *remoteError) Unwrap() error { return e.sentinel }
