// Command bandsync moves Mi Band / Amazfit workouts to Strava and a local
// archive. Everything lives in internal/cli.
package main

import (
	"os"

	"github.com/bandsync/bandsync/internal/cli"
)

func main() { os.Exit(cli.Main()) }
