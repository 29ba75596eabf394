// Package service installs bandsync as a per-user background service that
// runs `bandsync sync --watch`: a systemd user unit on Linux, a launchd agent
// on macOS. It writes the unit file and asks the service manager to load it;
// the manager's commands go through a Runner so tests need neither.
package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"text/template"
)

// Name is the unit / agent name.
const (
	systemdUnit = "bandsync.service"
	launchdName = "com.github.bandsync.sync"
)

// Spec says what the service runs.
type Spec struct {
	// Exe is the absolute path of the bandsync binary.
	Exe string
	// Args follow the binary, e.g. ["sync", "--watch", "--interval", "15m"].
	Args []string
	// Env is passed to the service (e.g. BANDSYNC_DATA_DIR).
	Env map[string]string
}

// Runner runs a service-manager command and returns its combined output.
type Runner func(ctx context.Context, name string, args ...string) ([]byte, error)

// ExecRunner runs commands for real.
func ExecRunner(ctx context.Context, name string, args ...string) ([]byte, error) {
	return exec.CommandContext(ctx, name, args...).CombinedOutput()
}

// Manager installs and removes the service for one user.
type Manager struct {
	GOOS string // runtime.GOOS unless set
	Home string // the user's home directory
	// ConfigHome is $XDG_CONFIG_HOME (Linux); default Home/.config.
	ConfigHome string
	Run        Runner
}

// NewManager returns a Manager for the current user and OS.
func NewManager() (*Manager, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return nil, fmt.Errorf("find home directory: %w", err)
	}
	return &Manager{GOOS: runtime.GOOS, Home: home, ConfigHome: os.Getenv("XDG_CONFIG_HOME"), Run: ExecRunner}, nil
}

// ErrUnsupported is returned on systems without a supported service manager.
var ErrUnsupported = errors.New("bandsync can install a service only with systemd (Linux) or launchd (macOS); run `bandsync sync --watch` from your own scheduler instead")

// Path is where the unit or agent file lives.
func (m *Manager) Path() (string, error) {
	switch m.GOOS {
	case "linux":
		cfg := m.ConfigHome
		if cfg == "" {
			cfg = filepath.Join(m.Home, ".config")
		}
		return filepath.Join(cfg, "systemd", "user", systemdUnit), nil
	case "darwin":
		return filepath.Join(m.Home, "Library", "LaunchAgents", launchdName+".plist"), nil
	}
	return "", ErrUnsupported
}

// Render returns the unit or agent file for spec.
func (m *Manager) Render(spec Spec) ([]byte, error) {
	var tmpl *template.Template
	switch m.GOOS {
	case "linux":
		tmpl = systemdTmpl
	case "darwin":
		tmpl = launchdTmpl
	default:
		return nil, ErrUnsupported
	}
	keys := make([]string, 0, len(spec.Env))
	for k := range spec.Env {
		keys = append(keys, k)
	}
	sortStrings(keys)
	var buf bytes.Buffer
	err := tmpl.Execute(&buf, map[string]any{
		"Exe": spec.Exe, "Args": spec.Args, "Env": spec.Env, "EnvKeys": keys,
		"Label": launchdName, "Home": m.Home,
	})
	return buf.Bytes(), err
}

// Install writes the file and enables and starts the service.
func (m *Manager) Install(ctx context.Context, spec Spec) (string, error) {
	if !filepath.IsAbs(spec.Exe) {
		return "", fmt.Errorf("service: the bandsync path %q must be absolute", spec.Exe)
	}
	path, err := m.Path()
	if err != nil {
		return "", err
	}
	body, err := m.Render(spec)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	if err := os.WriteFile(path, body, 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	switch m.GOOS {
	case "linux":
		err := m.run(ctx, "systemctl", "--user", "daemon-reload")
		if err == nil {
			err = m.run(ctx, "systemctl", "--user", "enable", "--now", systemdUnit)
		}
		if err != nil {
			os.Remove(path) // not half installed
			return path, fmt.Errorf("%w\n  the systemd user manager is not reachable (a login session or `loginctl enable-linger` is needed); or run `bandsync sync --watch` from your own scheduler", err)
		}
		return path, nil
	default:
		_ = m.run(ctx, "launchctl", "unload", path) // not loaded yet is fine
		return path, m.run(ctx, "launchctl", "load", "-w", path)
	}
}

// Uninstall stops the service and removes its file; a service that is not
// installed is not an error.
func (m *Manager) Uninstall(ctx context.Context) (string, error) {
	path, err := m.Path()
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return path, nil
	}
	switch m.GOOS {
	case "linux":
		_ = m.run(ctx, "systemctl", "--user", "disable", "--now", systemdUnit)
	default:
		_ = m.run(ctx, "launchctl", "unload", "-w", path)
	}
	if err := os.Remove(path); err != nil {
		return path, fmt.Errorf("remove %s: %w", path, err)
	}
	if m.GOOS == "linux" {
		_ = m.run(ctx, "systemctl", "--user", "daemon-reload")
	}
	return path, nil
}

// Status says whether the file exists and what the manager reports.
func (m *Manager) Status(ctx context.Context) (installed bool, state string, err error) {
	path, err := m.Path()
	if err != nil {
		return false, "", err
	}
	if _, err := os.Stat(path); err != nil {
		return false, "not installed", nil
	}
	var out []byte
	switch m.GOOS {
	case "linux":
		out, _ = m.Run(ctx, "systemctl", "--user", "is-active", systemdUnit)
	default:
		out, _ = m.Run(ctx, "launchctl", "list", launchdName)
		if len(out) > 0 {
			out = []byte("loaded")
		}
	}
	state = strings.TrimSpace(string(out))
	if state == "" {
		state = "unknown"
	}
	return true, state, nil
}

func (m *Manager) run(ctx context.Context, name string, args ...string) error {
	out, err := m.Run(ctx, name, args...)
	if err != nil {
		return fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// systemdQuote quotes one ExecStart word (systemd.syntax(7)).
func systemdQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\"'\\$%;") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `$$`, `%`, `%%`)
	return `"` + r.Replace(s) + `"`
}

func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

var funcs = template.FuncMap{"sq": systemdQuote, "xml": xmlEscape}

var systemdTmpl = template.Must(template.New("unit").Funcs(funcs).Parse(`# Written by bandsync service install; remove with bandsync service uninstall.
[Unit]
Description=bandsync: sync band workouts to Strava
After=network-online.target
Wants=network-online.target

[Service]
Type=simple
ExecStart={{sq .Exe}}{{range .Args}} {{sq .}}{{end}}
{{- range .EnvKeys}}
Environment={{sq (printf "%s=%s" . (index $.Env .))}}
{{- end}}
Restart=on-failure
RestartSec=60
# 2: a usage or configuration error, 4: authorization needed. Restarting
# cannot fix either; bandsync status and the journal say what to do.
RestartPreventExitStatus=2 4
# SIGTERM stops bandsync cleanly, even mid-upload.
KillSignal=SIGTERM
TimeoutStopSec=60

[Install]
WantedBy=default.target
`))

var launchdTmpl = template.Must(template.New("plist").Funcs(funcs).Parse(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<!-- Written by bandsync service install; remove with bandsync service uninstall. -->
<plist version="1.0">
<dict>
  <key>Label</key><string>{{.Label}}</string>
  <key>ProgramArguments</key>
  <array>
    <string>{{xml .Exe}}</string>
{{- range .Args}}
    <string>{{xml .}}</string>
{{- end}}
  </array>
{{- if .EnvKeys}}
  <key>EnvironmentVariables</key>
  <dict>
{{- range .EnvKeys}}
    <key>{{xml .}}</key><string>{{xml (index $.Env .)}}</string>
{{- end}}
  </dict>
{{- end}}
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
  <key>StandardOutPath</key><string>{{xml .Home}}/Library/Logs/bandsync.log</string>
  <key>StandardErrorPath</key><string>{{xml .Home}}/Library/Logs/bandsync.log</string>
</dict>
</plist>
`))
