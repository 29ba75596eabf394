package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/bandsync/bandsync/internal/errclass"
	"github.com/bandsync/bandsync/internal/oauth"
	"github.com/bandsync/bandsync/internal/source/zepp"
	"github.com/bandsync/bandsync/internal/tokenstore"
)

// NewCmdAuth builds `bandsync auth`.
func NewCmdAuth(f *Factory) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "auth",
		Short: "Link bandsync to Strava and the Zepp cloud, and see the links",
		Example: `  bandsync auth strava --client-id 12345 --client-secret-stdin < secret.txt
  bandsync auth zepp --email me@example.com --password-stdin
  bandsync auth status`,
	}
	cmd.AddCommand(NewCmdAuthStrava(f, nil), NewCmdAuthZepp(f, nil), NewCmdAuthStatus(f), NewCmdAuthLogout(f))
	return cmd
}

// readSecret reads one line (a secret) from r, trimmed.
func readSecret(r io.Reader, what string) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(r, 64<<10)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read %s from standard input: %w", what, err)
	}
	s := strings.TrimSpace(line)
	if s == "" {
		return "", errclass.Usagef("no %s on standard input", what)
	}
	return s, nil
}

// AuthStravaOptions are the options of `bandsync auth strava`.
type AuthStravaOptions struct {
	IO          IOStreams
	ClientID    string
	SecretStdin bool
	NoBrowser   bool
	Timeout     time.Duration
	OpenBrowser func(string) error // tests and the demo
}

// NewCmdAuthStrava builds `bandsync auth strava`.
func NewCmdAuthStrava(f *Factory, runF func(*AuthStravaOptions) error) *cobra.Command {
	opts := &AuthStravaOptions{}
	cmd := &cobra.Command{
		Use:   "strava",
		Short: "Authorize bandsync to upload to your Strava account (OAuth, in your browser)",
		Long: `Authorize bandsync to upload to your Strava account. You need your own Strava
API application (free, five steps in the README); its client ID and secret come
from --client-id and --client-secret-stdin, BANDSYNC_STRAVA_CLIENT_ID and
BANDSYNC_STRAVA_CLIENT_SECRET, or the config file.

bandsync listens on 127.0.0.1 for Strava's answer, prints the URL to open and
opens your browser (unless --no-browser), and waits up to 5 minutes. It asks for
activity:write (to upload) and activity:read_all (to see your private activities,
so nothing is uploaded twice). Tokens are kept in the system keyring or in a
0600 file in the data directory, never printed.`,
		Example: `  bandsync auth strava --client-id 12345 --client-secret-stdin < secret.txt
  BANDSYNC_STRAVA_CLIENT_ID=12345 BANDSYNC_STRAVA_CLIENT_SECRET=... bandsync auth strava --no-browser`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = f.IO
			if runF != nil {
				return runF(opts)
			}
			return authStravaRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().StringVar(&opts.ClientID, "client-id", "", "your Strava API app's client ID")
	cmd.Flags().BoolVar(&opts.SecretStdin, "client-secret-stdin", false, "read the app's client secret from standard input")
	cmd.Flags().BoolVar(&opts.NoBrowser, "no-browser", false, "do not open a browser; open the printed URL yourself")
	return cmd
}

func authStravaRun(ctx context.Context, f *Factory, opts *AuthStravaOptions) error {
	given := stravaApp{ClientID: opts.ClientID}
	if opts.SecretStdin {
		s, err := readSecret(opts.IO.In, "client secret")
		if err != nil {
			return err
		}
		given.ClientSecret = s
	}
	cfg, err := f.stravaOAuth(ctx, given)
	if err != nil {
		return err
	}
	tok, err := oauth.Authorize(ctx, cfg, oauth.AuthorizeOptions{
		Stderr: opts.IO.ErrOut, NoBrowser: opts.NoBrowser, Timeout: opts.Timeout, OpenBrowser: opts.OpenBrowser,
	})
	if err != nil {
		return err
	}
	store, err := f.tokens()
	if err != nil {
		return err
	}
	app, _ := json.Marshal(stravaApp{ClientID: cfg.ClientID, ClientSecret: cfg.ClientSecret})
	if err := store.Set(ctx, stravaAppName, app); err != nil {
		return fmt.Errorf("save the Strava app's credentials: %w", err)
	}
	if err := oauth.Save(ctx, store, oauth.DefaultTokenName, tok); err != nil {
		return fmt.Errorf("save the Strava token: %w", err)
	}
	who := tok.AthleteName
	if who == "" && tok.AthleteID != 0 {
		who = fmt.Sprintf("athlete %d", tok.AthleteID)
	}
	if who == "" {
		who = "your account"
	}
	fmt.Fprintf(opts.IO.Out, "Strava: linked to %s (scope %s)\n", who, tok.Scope)
	return nil
}

// AuthZeppOptions are the options of `bandsync auth zepp`.
type AuthZeppOptions struct {
	IO            IOStreams
	AppTokenStdin bool
	Email         string
	PasswordStdin bool
	Region        string
}

// NewCmdAuthZepp builds `bandsync auth zepp`.
func NewCmdAuthZepp(f *Factory, runF func(*AuthZeppOptions) error) *cobra.Command {
	opts := &AuthZeppOptions{}
	cmd := &cobra.Command{
		Use:   "zepp (--app-token-stdin | --email EMAIL [--password-stdin]) [--region R]",
		Short: "Link bandsync to your Zepp (Mi Fit / Amazfit) cloud account",
		Long: `Link bandsync to your Zepp cloud account, where your band's workouts are.

Two ways:
  --app-token-stdin  paste the app token from Zepp's privacy page (works for
                     every account, including Apple, Google and Xiaomi logins;
                     the README shows how to copy it). Also BANDSYNC_ZEPP_APP_TOKEN.
  --email EMAIL      log in with the email and password of a Zepp account; the
                     password comes from standard input (--password-stdin) or
                     BANDSYNC_ZEPP_PASSWORD.

bandsync finds the region that holds your data and renews the app token
before it expires when it has a login token (email login).`,
		Example: `  bandsync auth zepp --app-token-stdin < token.txt
  bandsync auth zepp --email me@example.com --password-stdin
  BANDSYNC_ZEPP_PASSWORD=... bandsync auth zepp --email me@example.com --region DE`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts.IO = f.IO
			if opts.AppTokenStdin == (opts.Email != "") && f.Getenv("BANDSYNC_ZEPP_APP_TOKEN") == "" {
				return errclass.Usagef("give either --app-token-stdin or --email EMAIL")
			}
			if runF != nil {
				return runF(opts)
			}
			return authZeppRun(cmd.Context(), f, opts)
		},
	}
	cmd.Flags().BoolVar(&opts.AppTokenStdin, "app-token-stdin", false, "read a Zepp app token from standard input")
	cmd.Flags().StringVar(&opts.Email, "email", "", "log in with this Zepp account's email")
	cmd.Flags().BoolVar(&opts.PasswordStdin, "password-stdin", false, "read the password from standard input")
	cmd.Flags().StringVar(&opts.Region, "region", "", "the account's country as an ISO code, e.g. DE (default: found by bandsync)")
	return cmd
}

func authZeppRun(ctx context.Context, f *Factory, opts *AuthZeppOptions) error {
	zo, err := f.zeppOptions(func(msg string) { fmt.Fprintln(opts.IO.ErrOut, "warning:", msg) })
	if err != nil {
		return err
	}
	var acct zepp.Account
	if opts.Email == "" {
		token := f.Getenv("BANDSYNC_ZEPP_APP_TOKEN")
		if opts.AppTokenStdin || token == "" {
			if token, err = readSecret(opts.IO.In, "app token"); err != nil {
				return err
			}
		}
		acct, err = zepp.LoginAppToken(ctx, zo, token)
	} else {
		password := f.Getenv("BANDSYNC_ZEPP_PASSWORD")
		if opts.PasswordStdin || password == "" {
			if password, err = readSecret(opts.IO.In, "password"); err != nil {
				return err
			}
		}
		acct, err = zepp.LoginPassword(ctx, zo, opts.Email, password, strings.ToUpper(opts.Region))
	}
	if err != nil {
		return err
	}
	who := acct.Email
	if who == "" {
		who = "user " + acct.UserID
	}
	fmt.Fprintf(opts.IO.Out, "Zepp: linked to %s, region %s (%s)\n", who, acct.Region, acct.Host)
	if acct.Note != "" {
		fmt.Fprintln(opts.IO.Out, "  note:", acct.Note)
	}
	return nil
}

// authStatus is the --json shape of `bandsync auth status`.
type authStatus struct {
	Strava *stravaStatus `json:"strava"`
	Zepp   *zeppStatus   `json:"zepp"`
}

type stravaStatus struct {
	Linked  bool       `json:"linked"`
	Athlete string     `json:"athlete,omitempty"`
	Scope   string     `json:"scope,omitempty"`
	Expires *time.Time `json:"access_expires,omitempty"`
	Problem string     `json:"problem,omitempty"`
}

type zeppStatus struct {
	Linked           bool       `json:"linked"`
	Account          string     `json:"account,omitempty"`
	Method           string     `json:"method,omitempty"`
	Region           string     `json:"region,omitempty"`
	Host             string     `json:"host,omitempty"`
	AppTokenExpires  *time.Time `json:"app_token_expires,omitempty"`
	ExpiryEstimated  bool       `json:"expiry_estimated,omitempty"`
	Renewable        bool       `json:"renewable"`
	LoginTokenExpire *time.Time `json:"login_token_expires,omitempty"`
	Problem          string     `json:"problem,omitempty"`
}

// NewCmdAuthStatus builds `bandsync auth status`.
func NewCmdAuthStatus(f *Factory) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "Show which accounts are linked and when their tokens expire (never the tokens)",
		Example: "  bandsync auth status\n  bandsync auth status --json",
		Args:    exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			st, err := gatherAuthStatus(cmd.Context(), f)
			if err != nil {
				return err
			}
			if asJSON {
				return writeJSON(f.IO.Out, st)
			}
			return st.print(f.IO.Out)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON document")
	return cmd
}

func gatherAuthStatus(ctx context.Context, f *Factory) (authStatus, error) {
	store, err := f.tokens()
	if err != nil {
		return authStatus{}, err
	}
	st := authStatus{Strava: &stravaStatus{}, Zepp: &zeppStatus{}}
	if tok, err := oauth.Load(ctx, store, oauth.DefaultTokenName, ""); err == nil {
		st.Strava.Linked = true
		st.Strava.Athlete = tok.AthleteName
		if st.Strava.Athlete == "" && tok.AthleteID != 0 {
			st.Strava.Athlete = fmt.Sprintf("athlete %d", tok.AthleteID)
		}
		st.Strava.Scope = tok.Scope
		if !tok.Expiry.IsZero() {
			e := tok.Expiry.UTC()
			st.Strava.Expires = &e
		}
	} else if !errors.Is(err, tokenstore.ErrNotFound) && errclass.ClassOf(err) != errclass.ReAuth {
		st.Strava.Problem = err.Error()
	}
	zo, err := f.zeppOptions(nil)
	if err != nil {
		return st, err
	}
	if a, err := zepp.Status(ctx, zo); err == nil {
		st.Zepp.Linked = true
		st.Zepp.Account = a.Email
		if st.Zepp.Account == "" {
			st.Zepp.Account = "user " + a.UserID
		}
		st.Zepp.Method, st.Zepp.Region, st.Zepp.Host = a.Method, a.Region, a.Host
		if !a.AppTokenExpires.IsZero() {
			e := a.AppTokenExpires.UTC()
			st.Zepp.AppTokenExpires = &e
		}
		st.Zepp.ExpiryEstimated = a.ExpiryEstimated
		st.Zepp.Renewable = a.Renewable()
		if !a.LoginTokenExpires.IsZero() {
			e := a.LoginTokenExpires.UTC()
			st.Zepp.LoginTokenExpire = &e
		}
	} else if !errors.Is(err, zepp.ErrNotLinked) {
		st.Zepp.Problem = err.Error()
	}
	return st, nil
}

func (st authStatus) print(out io.Writer) error {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	if s := st.Strava; s.Linked {
		exp := ""
		if s.Expires != nil {
			exp = fmt.Sprintf(", access token renews itself (current one until %s)", s.Expires.Local().Format("2006-01-02 15:04"))
		}
		fmt.Fprintf(tw, "Strava\tlinked to %s, scope %s%s\n", orDash(s.Athlete), orDash(s.Scope), exp)
	} else {
		fmt.Fprintf(tw, "Strava\tnot linked (run bandsync auth strava)%s\n", problem(s.Problem))
	}
	if z := st.Zepp; z.Linked {
		exp := ""
		if z.AppTokenExpires != nil {
			est := ""
			if z.ExpiryEstimated {
				est = " (estimated)"
			}
			exp = fmt.Sprintf(", app token until %s%s", z.AppTokenExpires.Local().Format("2006-01-02"), est)
			if z.Renewable {
				exp += ", renewed automatically"
			} else {
				exp += ", then paste a new one"
			}
		}
		fmt.Fprintf(tw, "Zepp\tlinked to %s (%s), region %s%s\n", z.Account, z.Method, orDash(z.Region), exp)
	} else {
		fmt.Fprintf(tw, "Zepp\tnot linked (run bandsync auth zepp)%s\n", problem(z.Problem))
	}
	return tw.Flush()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func problem(p string) string {
	if p == "" {
		return ""
	}
	return ": " + p
}

// NewCmdAuthLogout builds `bandsync auth logout`.
func NewCmdAuthLogout(f *Factory) *cobra.Command {
	return &cobra.Command{
		Use:   "logout strava|zepp",
		Short: "Forget a link: delete the local tokens (and, for Strava, revoke bandsync's access)",
		Example: `  bandsync auth logout strava
  bandsync auth logout zepp`,
		Args: exactArgs(1, "strava or zepp"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			switch args[0] {
			case "strava":
				cfg, err := f.stravaOAuth(ctx, stravaApp{})
				store, serr := f.tokens()
				if serr != nil {
					return serr
				}
				if err != nil {
					// Without the app's credentials only the local token goes.
					if err := store.Delete(ctx, oauth.DefaultTokenName); err != nil {
						return err
					}
				} else if err := oauth.NewTokenSource(cfg, store, oauth.TokenSourceOptions{}).Logout(ctx); err != nil {
					return err
				}
				fmt.Fprintln(f.IO.Out, "Strava: unlinked")
			case "zepp":
				zo, err := f.zeppOptions(nil)
				if err != nil {
					return err
				}
				if err := zepp.Logout(ctx, zo); err != nil {
					return err
				}
				fmt.Fprintln(f.IO.Out, "Zepp: unlinked (your phone app stays logged in)")
			default:
				return errclass.Usagef("unknown service %q: use strava or zepp", args[0])
			}
			return nil
		},
	}
}

// writeJSON prints v as one indented JSON document.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
