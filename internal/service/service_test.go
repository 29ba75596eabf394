package service

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

type calls struct{ got []string }

func (c *calls) run(_ context.Context, name string, args ...string) ([]byte, error) {
	c.got = append(c.got, name+" "+strings.Join(args, " "))
	if name == "systemctl" && len(args) > 1 && args[1] == "is-active" {
		return []byte("active\n"), nil
	}
	return nil, nil
}

var spec = Spec{Exe: "/opt/band sync/bandsync", Args: []string{"sync", "--watch", "--interval", "15m"},
	Env: map[string]string{"BANDSYNC_DATA_DIR": "/home/a/data 1"}}

func TestSystemdInstallUninstall(t *testing.T) {
	home := t.TempDir()
	c := &calls{}
	m := &Manager{GOOS: "linux", Home: home, Run: c.run}
	path, err := m.Install(context.Background(), spec)
	if err != nil {
		t.Fatal(err)
	}
	if path != filepath.Join(home, ".config", "systemd", "user", "bandsync.service") {
		t.Fatalf("path %s", path)
	}
	body, _ := os.ReadFile(path)
	for _, want := range []string{
		`ExecStart="/opt/band sync/bandsync" sync --watch --interval 15m`,
		`Environment="BANDSYNC_DATA_DIR=/home/a/data 1"`,
		"KillSignal=SIGTERM", "WantedBy=default.target",
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("unit lacks %q:\n%s", want, body)
		}
	}
	if strings.Join(c.got, "|") != "systemctl --user daemon-reload|systemctl --user enable --now bandsync.service" {
		t.Errorf("commands: %v", c.got)
	}
	installed, state, err := m.Status(context.Background())
	if err != nil || !installed || state != "active" {
		t.Errorf("status: %v %q %v", installed, state, err)
	}
	if _, err := m.Uninstall(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("unit file left behind")
	}
	if _, err := m.Uninstall(context.Background()); err != nil {
		t.Error("uninstalling twice must not fail")
	}
	if installed, _, _ := m.Status(context.Background()); installed {
		t.Error("still installed")
	}
}

func TestLaunchdPlist(t *testing.T) {
	m := &Manager{GOOS: "darwin", Home: "/Users/a", Run: (&calls{}).run}
	body, err := m.Render(Spec{Exe: "/usr/local/bin/bandsync", Args: []string{"sync", "--watch"}, Env: map[string]string{"K": "a&b"}})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<string>/usr/local/bin/bandsync</string>", "<string>--watch</string>", "<key>K</key><string>a&amp;b</string>", "com.github.bandsync.sync"} {
		if !strings.Contains(string(body), want) {
			t.Errorf("plist lacks %q:\n%s", want, body)
		}
	}
}

func TestUnsupportedAndRelativeExe(t *testing.T) {
	m := &Manager{GOOS: "plan9", Home: t.TempDir(), Run: (&calls{}).run}
	if _, err := m.Install(context.Background(), spec); !errors.Is(err, ErrUnsupported) {
		t.Errorf("err = %v", err)
	}
	m.GOOS = "linux"
	if _, err := m.Install(context.Background(), Spec{Exe: "bandsync"}); err == nil {
		t.Error("relative path accepted")
	}
}

func TestInstallFailureLeavesNoUnit(t *testing.T) {
	home := t.TempDir()
	failing := func(_ context.Context, name string, args ...string) ([]byte, error) {
		return []byte("Failed to connect to bus"), errors.New("exit status 1")
	}
	m := &Manager{GOOS: "linux", Home: home, Run: failing}
	path, err := m.Install(context.Background(), spec)
	if err == nil || !strings.Contains(err.Error(), "enable-linger") {
		t.Fatalf("err = %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("a unit file was left behind")
	}
}
