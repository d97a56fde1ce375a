package loadtest

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Process is a server the load runs against, started as a child process.
type Process struct {
	Name string
	// Base is the server's URL, http://127.0.0.1:port.
	Base string
	cmd  *exec.Cmd
	done chan struct{}
	err  error

	mu      sync.Mutex
	maxRSS  int64
	sampled bool
}

// FreeAddr returns a local address with a port that was free a moment ago.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Start runs name with args and env (added to this process's environment,
// later entries winning), its output going to log, serving on addr.
func Start(name, addr string, log io.Writer, env []string, bin string, args ...string) (*Process, error) {
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdout, cmd.Stderr = log, log
	setParentDeathSignal(cmd)
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &Process{Name: name, Base: "http://" + addr, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// WaitReady polls GET Base+/readyz until it answers 200, the process
// exits, or timeout passes.
func (p *Process) WaitReady(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.Base+"/readyz", nil)
		resp, err := client.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-p.done:
			return fmt.Errorf("%s exited before it was ready: %v", p.Name, p.err)
		case <-ctx.Done():
			return fmt.Errorf("%s not ready after %s (last: %v)", p.Name, timeout, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Exited reports whether the process has stopped.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Stop asks the process to stop (SIGTERM) and kills it after timeout.
func (p *Process) Stop(timeout time.Duration) error {
	if p.Exited() {
		return p.err
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		_ = p.cmd.Process.Kill()
		<-p.done
		return fmt.Errorf("%s did not stop within %s; killed", p.Name, timeout)
	}
}

// Sample reads the process's resident set now and keeps the largest.
func (p *Process) Sample() {
	m, err := ReadMemory(p.Pid())
	if err != nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sampled = true
	p.maxRSS = max(p.maxRSS, m.EndBytes)
}

// SampleEvery samples the resident set every interval until ctx is done.
func (p *Process) SampleEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		p.Sample()
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Memory returns the process's peak and current resident set, and the
// largest sampled; call it before Stop.
func (p *Process) Memory() Memory {
	p.Sample()
	m, _ := ReadMemory(p.Pid())
	p.mu.Lock()
	defer p.mu.Unlock()
	m.SampledMaxBytes = p.maxRSS
	return m
}

// ReadMemory reads VmHWM and VmRSS of process pid from /proc.
func ReadMemory(pid int) (Memory, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, err
	}
	var m Memory
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ":")
		switch k {
		case "VmHWM":
			m.PeakBytes = parseKB(v)
		case "VmRSS":
			m.EndBytes = parseKB(v)
		}
	}
	if m.EndBytes == 0 {
		return m, fmt.Errorf("/proc/%d/status: no VmRSS", pid)
	}
	return m, nil
}
