package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/errclass"
)

// Exit codes: the contract of ../shared/design/cli.md.
const (
	ExitOK          = 0 // all done
	ExitError       = 1 // an error
	ExitUsage       = 2 // bad flags, arguments or configuration
	ExitPartial     = 3 // some workouts failed, the rest synced
	ExitAuth        = 4 // authorization needed
	ExitRateLimited = 5 // stopped at a rate limit; nothing failed
)

// partialError reports that a run finished with some items failed and the
// rest done.
type partialError struct {
	failed, total int
	what          string // "workouts", "files"
	more          string // e.g. "see bandsync status"
}

func (e *partialError) Error() string {
	msg := fmt.Sprintf("%d of %d %s failed; the rest are done", e.failed, e.total, e.what)
	if e.more != "" {
		msg += " (" + e.more + ")"
	}
	return msg
}

func usageErr(err error) error {
	if err == nil {
		return nil
	}
	return errclass.New(errclass.Usage, err)
}

// exitCode maps an error to the process exit code. It is the only place
// that does.
func exitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var p *partialError
	if errors.As(err, &p) {
		return ExitPartial
	}
	switch errclass.ClassOf(err) {
	case errclass.Usage:
		return ExitUsage
	case errclass.ReAuth:
		return ExitAuth
	case errclass.RateLimited:
		return ExitRateLimited
	}
	// cobra's own argument errors are not classified.
	msg := err.Error()
	if strings.HasPrefix(msg, "unknown command") || strings.HasPrefix(msg, "unknown flag") ||
		strings.HasPrefix(msg, "accepts ") || strings.HasPrefix(msg, "requires at least") {
		return ExitUsage
	}
	return ExitError
}

// reportError prints err (and its hint) to w and returns the exit code.
func reportError(w io.Writer, err error) int {
	code := exitCode(err)
	if err == nil {
		return code
	}
	fmt.Fprintf(w, "bandsync: %v\n", err)
	if hint := errclass.HintOf(err); hint != "" && !strings.Contains(err.Error(), hint) {
		fmt.Fprintf(w, "  what to do: %s\n", hint)
	}
	if code == ExitUsage && strings.HasPrefix(err.Error(), "unknown") {
		fmt.Fprintln(w, "  run 'bandsync --help' for usage")
	}
	return code
}

// exactArgs is cobra.ExactArgs with a usage-class error.
func exactArgs(n int, what string) func(*cobra.Command, []string) error {
	return func(_ *cobra.Command, args []string) error {
		if len(args) != n {
			return errclass.Usagef("expected %s, got %d argument(s)", what, len(args))
		}
		return nil
	}
}
