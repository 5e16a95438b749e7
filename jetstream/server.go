package jetstream

import (
	"fmt"
	"log/slog"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// maxPayload is the embedded server's largest message: room for a 4 MiB
// object-store chunk plus headers.
const maxPayload = 8 << 20

// startServer starts the embedded JetStream server described by cfg.
func startServer(cfg Config) (*server.Server, error) {
	opts := &server.Options{
		ServerName:    "fractal",
		JetStream:     true,
		StoreDir:      cfg.DataDir,
		MaxPayload:    maxPayload,
		SyncAlways:    cfg.SyncAlways,
		NoSigs:        true,
		DontListen:    true,
		Authorization: cfg.Token,
	}
	if cfg.Listen != "" {
		host, portStr, err := net.SplitHostPort(cfg.Listen)
		if err != nil {
			return nil, fmt.Errorf("embedded nats: listen address %q: %w", cfg.Listen, err)
		}
		port, err := strconv.Atoi(portStr)
		if err != nil {
			return nil, fmt.Errorf("embedded nats: listen port %q: %w", portStr, err)
		}
		if port == 0 {
			port = server.RANDOM_PORT
		}
		opts.DontListen, opts.Host, opts.Port = false, host, port
		if ip := net.ParseIP(host); cfg.Token == "" && (ip == nil || !ip.IsLoopback()) {
			cfg.Logger.Warn("embedded nats listens beyond loopback without a token: anyone who reaches it can change jobs", "listen", cfg.Listen)
		}
	}
	ns, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embedded nats: %w", err)
	}
	ns.SetLoggerV2(serverLogger{cfg.Logger.With(logKeyComponent, "nats-server")}, false, false, false)
	ns.Start()
	if !ns.ReadyForConnections(10 * time.Second) {
		ns.Shutdown()
		return nil, fmt.Errorf("embedded nats: not ready after 10s (data dir %s)", cfg.DataDir)
	}
	return ns, nil
}

// serverLogger sends the server's notices, warnings and errors to slog.
type serverLogger struct{ log *slog.Logger }

func (l serverLogger) Noticef(format string, v ...any) { l.log.Debug(fmt.Sprintf(format, v...)) }
func (l serverLogger) Warnf(format string, v ...any)   { l.log.Warn(fmt.Sprintf(format, v...)) }
func (l serverLogger) Fatalf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l serverLogger) Errorf(format string, v ...any)  { l.log.Error(fmt.Sprintf(format, v...)) }
func (l serverLogger) Debugf(format string, v ...any)  {}
func (l serverLogger) Tracef(format string, v ...any)  {}
