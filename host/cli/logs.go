package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"
)

// followPoll is how often `server logs -f` looks for new lines.
const followPoll = 200 * time.Millisecond

func (a *app) logsCommand() *cobra.Command {
	var (
		follow bool
		lines  int
	)
	cmd := &cobra.Command{
		Use:   "logs",
		Short: "Print the end of the background server's log (-f to follow it)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.load(cmd)
			if err != nil {
				return err
			}
			if lines < 0 {
				return fmt.Errorf("-n %d: the number of lines cannot be negative", lines)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return a.logs(ctx, logPath(cfg), lines, follow)
		},
	}
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing lines as they are written, until Ctrl-C")
	cmd.Flags().IntVarP(&lines, "lines", "n", 100, "number of lines to print")
	return cmd
}

func (a *app) logs(ctx context.Context, path string, n int, follow bool) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no log file at %s yet: a server started with `claude-mem server start` writes it (one started with --foreground logs to its terminal)", path)
	}
	if err != nil {
		return fmt.Errorf("open the log: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("read the log: %w", err)
	}
	b, err := tailLines(f, 0, fi.Size(), n)
	f.Close()
	if err != nil {
		return fmt.Errorf("read the log: %w", err)
	}
	if _, err := a.stdout.Write(b); err != nil {
		return err
	}
	if !follow {
		return nil
	}
	return a.follow(ctx, path, fi.Size())
}

// follow prints what is appended to path from offset on, polling until ctx
// ends. A file that shrinks was truncated or replaced, and is read again
// from its start.
func (a *app) follow(ctx context.Context, path string, offset int64) error {
	t := time.NewTicker(followPoll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		fi, err := os.Stat(path)
		if err != nil {
			continue // rotated away for a moment
		}
		if fi.Size() < offset {
			offset = 0
		}
		if fi.Size() == offset {
			continue
		}
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		n, err := io.Copy(a.stdout, io.NewSectionReader(f, offset, fi.Size()-offset))
		f.Close()
		offset += n
		if err != nil {
			return fmt.Errorf("read the log: %w", err)
		}
	}
}

// tailLines returns the last n lines of r's bytes [start, end).
func tailLines(r io.ReaderAt, start, end int64, n int) ([]byte, error) {
	if n <= 0 || end <= start {
		return nil, nil
	}
	const block = 64 << 10
	var buf []byte
	pos := end
	for pos > start {
		step := min(block, pos-start)
		pos -= step
		chunk := make([]byte, step, int(step)+len(buf))
		if _, err := r.ReadAt(chunk, pos); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		buf = append(chunk, buf...)
		// A trailing newline ends the last line; it does not start one.
		if bytes.Count(bytes.TrimSuffix(buf, []byte("\n")), []byte("\n")) >= n {
			break
		}
	}
	body := bytes.TrimSuffix(buf, []byte("\n"))
	cut := len(body)
	for range n {
		i := bytes.LastIndexByte(body[:cut], '\n')
		if i < 0 {
			return buf, nil
		}
		cut = i
	}
	return buf[cut+1:], nil
}
