package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

// NewCmdConfig builds `bandsync config path|show`.
func NewCmdConfig(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Show where the configuration lives and what is in effect",
		Example: `  bandsync config path
  bandsync config show`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:     "path",
		Short:   "Print the configuration file's path (it need not exist)",
		Example: "  bandsync config path\n  $EDITOR \"$(bandsync config path)\"",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			p, _ := f.ConfigPath()
			_, err := fmt.Fprintln(f.IO.Out, p)
			return err
		},
	}, &cobra.Command{
		Use:     "show",
		Short:   "Print the effective configuration as TOML (secrets masked)",
		Example: "  bandsync config show\n  bandsync --config my.toml config show",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(*cobra.Command, []string) error {
			c, err := f.Config()
			if err != nil {
				return err
			}
			b, err := c.Masked().Marshal()
			if err != nil {
				return err
			}
			_, err = f.IO.Out.Write(b)
			return err
		},
	})
	return cmd
}
