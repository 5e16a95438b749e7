package chaos_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// child is this test binary running a role in a process of its own.
type child struct {
	name  string
	role  string
	args  roleArgs
	info  string // what its ready line said: a URL or address
	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}

	mu  sync.Mutex
	out bytes.Buffer // its stderr and extra stdout, shown when the test fails
}

// startChild starts role with args and waits for its ready line.
func startChild(t *testing.T, name, role string, args roleArgs) *child {
	t.Helper()
	b, _ := json.Marshal(args)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), roleEnv+"="+role, argsEnv+"="+string(b))
	c := &child{name: name, role: role, args: args, cmd: cmd, done: make(chan struct{})}
	cmd.Stderr = &lockedWriter{c}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if c.stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	readyc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if info, ok := strings.CutPrefix(sc.Text(), "ready "); ok {
				readyc <- info
				continue
			}
			c.write([]byte(sc.Text() + "\n"))
		}
	}()
	go func() { cmd.Wait(); close(c.done) }()
	t.Cleanup(func() {
		c.stop()
		if strings.Contains(c.output(), "WARNING: DATA RACE") {
			t.Errorf("%s reported a data race", name) // its output follows
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", name, c.output())
		}
	})
	select {
	case c.info = <-readyc:
	case <-c.done:
		t.Fatalf("%s exited before it was ready:\n%s", name, c.output())
	case <-time.After(60 * time.Second):
		t.Fatalf("%s not ready after 60s:\n%s", name, c.output())
	}
	return c
}

// kill sends SIGKILL: no cleanup, no drain, open connections just end.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill %s: %v", c.name, err)
	}
	<-c.done
}

// stop asks the child to end (stdin closes) and kills it after a grace.
func (c *child) stop() {
	c.stdin.Close()
	select {
	case <-c.done:
	case <-time.After(5 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

func (c *child) pid() int { return c.cmd.Process.Pid }

func (c *child) write(p []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.out.Len() < 1<<20 {
		c.out.Write(p)
	}
}

func (c *child) output() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.out.String()
}

type lockedWriter struct{ c *child }

func (w *lockedWriter) Write(p []byte) (int, error) { w.c.write(p); return len(p), nil }
