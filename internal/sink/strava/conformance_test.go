package strava_test

import (
	"testing"
	"time"

	"github.com/bandsync/bandsync/internal/sink"
	"github.com/bandsync/bandsync/internal/sink/sinktest"
	"github.com/bandsync/bandsync/internal/sink/strava/stravatest"
)

func TestConformance(t *testing.T) {
	sinktest.Run(t, func(t *testing.T) sink.Sink { return stravatest.New(t) },
		sinktest.Hooks{ConfirmEvery: 5 * time.Millisecond})
}
