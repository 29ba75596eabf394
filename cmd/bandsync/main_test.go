package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/bandsync/bandsync/internal/cli"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"bandsync":     func() { os.Exit(cli.Main()) },
		"fake-browser": func() { os.Exit(fakeBrowser()) },
		"http-get":     func() { os.Exit(httpGet()) },
		"fake-browser-tamper": func() {
			os.Args = append([]string{os.Args[0], "-tamper-state"}, os.Args[1:]...)
			os.Exit(fakeBrowser())
		},
	})
}

// TestScripts runs the acceptance tests in testdata/script against the real
// command (re-executed as "bandsync"). Refresh golden output with
// go test ./cmd/bandsync -run TestScripts -update.
func TestScripts(t *testing.T) {
	samples, err := filepath.Abs("../../testdata/samples")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:           "../../testdata/script",
		UpdateScripts: *update,
		Setup: func(env *testscript.Env) error {
			env.Setenv("SAMPLES", samples)
			env.Setenv("XDG_CONFIG_HOME", filepath.Join(env.WorkDir, ".config"))
			env.Setenv("XDG_DATA_HOME", filepath.Join(env.WorkDir, ".data"))
			env.Setenv("BANDSYNC_TOKEN_STORE", "file")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":     cmdExits,
			"emulators": cmdEmulators,
			"emulate":   cmdEmulate,
			"mode":      cmdMode,
		},
	})
}

// cmdExits runs a program and checks its exit code: exits CODE PROG ARGS...
// Its output is available to stdout/stderr like exec's.
func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROG [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with %d, want %d", args[1], got, want)
	}
}
