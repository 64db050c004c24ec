package render

import (
	"testing"

	"github.com/autoresearch/autoresearch/bot/internal/bottest"
)

func TestGoldenStatus(t *testing.T) {
	bottest.Golden(t, "status.txt", FormatStatus(bottest.GoldenStatus()))
}
