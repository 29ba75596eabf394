package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/service"
)

// NewCmdService builds `bandsync service install|uninstall|status`.
func NewCmdService(f *Factory) *cobra.Command {
	var interval time.Duration
	cmd := &cobra.Command{
		Use:   "service",
		Short: "Run sync --watch in the background: a systemd user unit (Linux) or a launchd agent (macOS)",
		Example: `  bandsync service install --interval 30m
  bandsync service status
  bandsync service uninstall`,
	}
	manager := func() (*service.Manager, error) { return service.NewManager() }
	install := &cobra.Command{
		Use:     "install",
		Short:   "Install and start the background service",
		Example: "  bandsync service install\n  bandsync service install --interval 1h",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := f.Config()
			if err != nil {
				return err
			}
			m, err := manager()
			if err != nil {
				return err
			}
			exe, err := os.Executable()
			if err != nil {
				return fmt.Errorf("find the bandsync binary: %w", err)
			}
			if exe, err = filepath.EvalSymlinks(exe); err != nil {
				return fmt.Errorf("find the bandsync binary: %w", err)
			}
			args := []string{"sync", "--watch", "--interval", interval.String()}
			if p, must := f.ConfigPath(); must {
				args = append([]string{"--config", p}, args...)
			}
			env := map[string]string{"BANDSYNC_DATA_DIR": c.DataDir}
			path, err := m.Install(cmd.Context(), service.Spec{Exe: exe, Args: args, Env: env})
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "Installed %s: bandsync syncs every %s in the background.\n", path, interval)
			return nil
		},
	}
	install.Flags().DurationVar(&interval, "interval", 15*time.Minute, "how often the service polls the source")
	cmd.AddCommand(install, &cobra.Command{
		Use:     "uninstall",
		Short:   "Stop and remove the background service",
		Example: "  bandsync service uninstall",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := manager()
			if err != nil {
				return err
			}
			path, err := m.Uninstall(cmd.Context())
			if err != nil {
				return err
			}
			fmt.Fprintf(f.IO.Out, "Removed %s.\n", path)
			return nil
		},
	}, &cobra.Command{
		Use:     "status",
		Short:   "Say whether the background service is installed and running",
		Example: "  bandsync service status",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			m, err := manager()
			if err != nil {
				return err
			}
			installed, state, err := m.Status(cmd.Context())
			if err != nil {
				return err
			}
			if !installed {
				fmt.Fprintln(f.IO.Out, "not installed (bandsync service install)")
				return nil
			}
			path, _ := m.Path()
			fmt.Fprintf(f.IO.Out, "installed (%s): %s\n", path, state)
			return nil
		},
	})
	return cmd
}
