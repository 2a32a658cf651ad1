package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/claude-mem/claude-mem-server/host/hosttest"
	"github.com/claude-mem/claude-mem-server/host/httpapi"
)

// BenchmarkStartToHealthy runs `claude-mem server start --foreground` and
// measures the time until /healthz answers with every plugin running. It
// also reports the idle resident memory of the host and its plugins.
func BenchmarkStartToHealthy(b *testing.B) {
	bin := hosttest.Binary(b)
	// RSS counts the pages of the one shared binary once per process; PSS
	// divides shared pages among the processes that map them, so its sum
	// is what the host and its plugins really occupy.
	var rssMB, pssMB float64
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		port := hosttest.FreePort(b)
		cmd := exec.Command(bin, "server", "start", "--foreground")
		cmd.Env = []string{"CLAUDE_MEM_DATA_DIR=" + dir, "CLAUDE_MEM_SERVER_PORT=" + strconv.Itoa(port), "HOME=" + dir}
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		b.StartTimer()
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		info := waitHealthy(b, base)
		b.StopTimer()
		if len(info.Plugins) < 4 {
			b.Fatalf("healthy with %d plugins", len(info.Plugins))
		}
		time.Sleep(500 * time.Millisecond)
		pids := []int{cmd.Process.Pid}
		for _, p := range info.Plugins {
			pids = append(pids, p.PID)
		}
		rssMB, pssMB = 0, 0
		for _, pid := range pids {
			rssMB += memOf(pid, "status", "VmRSS:")
			pssMB += memOf(pid, "smaps_rollup", "Pss:")
		}
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/start")
	b.ReportMetric(rssMB, "MB-rss-sum-idle")
	b.ReportMetric(pssMB, "MB-pss-sum-idle")
}

func waitHealthy(b *testing.B, base string) httpapi.Info { return waitHealthyT(b, base) }

func waitHealthyT(b testing.TB, base string) httpapi.Info {
	b.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/v1/info")
		if err == nil {
			var info httpapi.Info
			err = json.NewDecoder(resp.Body).Decode(&info)
			resp.Body.Close()
			if err == nil && resp.StatusCode == http.StatusOK && info.Status == "ok" {
				return info
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	b.Fatal("server did not become healthy in 20s")
	return httpapi.Info{}
}

// memOf reads a kB figure from /proc/<pid>/<file> and returns MB.
func memOf(pid int, file, field string) float64 {
	f, err := os.Open(fmt.Sprintf("/proc/%d/%s", pid, file))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), field); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 64)
			return kb / 1024
		}
	}
	return 0
}
