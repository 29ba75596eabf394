// Package cli holds bandsync's commands. Each command is an Options struct,
// a NewCmdX constructor and a run function, in the manner of gh; errors are
// turned into messages and exit codes in one place (exit.go).
package cli

import (
	"context"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/mattn/go-isatty"
	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/config"
)

// IOStreams are a command's standard streams.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer
	// ErrTTY is true when ErrOut is a terminal (progress bars, colours).
	ErrTTY bool
}

// Factory carries what every command needs: streams, global flags, the
// environment and the configuration (loaded on first use).
type Factory struct {
	IO      IOStreams
	Getenv  func(string) string
	Quiet   bool
	cfgPath string
	dataDir string

	cfg    *config.Config
	cfgErr error
	// local marks a Factory whose services are emulators on this machine
	// (the demo): their calls need no pacing for politeness.
	local bool
	// exportPassword, when set, gives a password-protected export's
	// password.
	exportPassword func() (string, error)
	// tuneGC, when set (by Main: it changes the whole process), tunes the
	// garbage collector for a sync.
	tuneGC func(getenv func(string) string)
}

// Config loads the configuration once: defaults, then the file, then
// BANDSYNC_* variables, then --data-dir.
func (f *Factory) Config() (*config.Config, error) {
	if f.cfg != nil || f.cfgErr != nil {
		return f.cfg, f.cfgErr
	}
	path, must := f.ConfigPath()
	c, err := config.Load(path, must)
	if err != nil {
		f.cfgErr = usageErr(err)
		return nil, f.cfgErr
	}
	c.ApplyEnv(f.Getenv)
	if f.dataDir != "" {
		c.DataDir = f.dataDir
	}
	if c.DataDir == "" {
		c.DataDir = config.DefaultDataDir()
	}
	// An absolute path: the store and the service unit must not depend on
	// the working directory.
	if abs, err := filepath.Abs(c.DataDir); err == nil {
		c.DataDir = abs
	}
	f.cfg = &c
	return f.cfg, nil
}

// ConfigPath is --config, else the default path; must says whether the file
// has to exist (it does when named explicitly).
func (f *Factory) ConfigPath() (path string, must bool) {
	if f.cfgPath != "" {
		return f.cfgPath, true
	}
	if p := f.Getenv("BANDSYNC_CONFIG"); p != "" {
		return p, true
	}
	return config.DefaultPath(), false
}

// Main runs bandsync with the process's arguments and streams and returns
// the exit code.
func Main() int {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	f := &Factory{
		IO: IOStreams{In: os.Stdin, Out: os.Stdout, ErrOut: os.Stderr,
			ErrTTY: isatty.IsTerminal(os.Stderr.Fd())},
		Getenv: os.Getenv,
		tuneGC: tuneSyncGC,
	}
	stop := startProfiling(os.Getenv)
	code := Run(ctx, f, os.Args[1:])
	stop()
	return code
}

// Run executes one command line and returns the exit code. Tests call it
// with their own Factory.
func Run(ctx context.Context, f *Factory, args []string) int {
	root := NewCmdRoot(f)
	root.SetArgs(args)
	root.SetIn(f.IO.In)
	root.SetOut(f.IO.Out)
	root.SetErr(f.IO.ErrOut)
	err := root.ExecuteContext(ctx)
	return reportError(f.IO.ErrOut, err)
}

// NewCmdRoot builds the command tree.
func NewCmdRoot(f *Factory) *cobra.Command {
	root := &cobra.Command{
		Use:   "bandsync",
		Short: "Move Mi Band / Amazfit workouts to Strava, faithfully and exactly once",
		Long: `bandsync moves your Mi Band / Amazfit (Zepp) workouts to Strava and a local
archive: the whole history and every new one, with GPS, heart rate, cadence,
laps, pauses (so Strava's moving time matches the band's) and the real
device name, each exactly once.

Try it with no account:  bandsync demo`,
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       versionString(),
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageErr(err)
	})
	pf := root.PersistentFlags()
	pf.StringVar(&f.cfgPath, "config", "", "configuration file (default $XDG_CONFIG_HOME/bandsync/config.toml)")
	pf.StringVar(&f.dataDir, "data-dir", "", "data directory: store, tokens, archive (default $XDG_DATA_HOME/bandsync, or BANDSYNC_DATA_DIR)")
	pf.BoolVarP(&f.Quiet, "quiet", "q", false, "print no progress")

	root.AddCommand(
		NewCmdVersion(f),
		NewCmdConvert(f, nil),
		NewCmdInspect(f, nil),
		NewCmdConfig(f),
		NewCmdAuth(f),
		NewCmdSync(f, nil),
		NewCmdStatus(f),
		NewCmdWorkouts(f),
		NewCmdDemo(f),
		NewCmdExport(f),
		NewCmdService(f),
		NewCmdServe(f),
		NewCmdUpload(f),
		NewCmdPlot(f),
	)
	return root
}
