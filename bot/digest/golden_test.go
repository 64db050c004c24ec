package digest

import (
	"fmt"
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/bot/internal/bottest"
	"github.com/autoresearch/autoresearch/bot/slacktest"
	"github.com/autoresearch/autoresearch/research"
)

func TestGoldenDigest(t *testing.T) {
	cur := *bottest.GoldenStatus().Current
	history, night := digestCrafted()
	d := Build(history, night, digestIdeas(), 0, digestFrom, digestTo)
	d.Tag, d.NoiseFloor = "mar3", 0.002
	d.Training = TrainingNow(research.Status{Current: &cur, Progress: &research.Progress{Percent: 41, Remaining: 13 * time.Minute}}, digestTo.Add(-time.Minute))
	link := func(e research.Experiment) string {
		return fmt.Sprintf("https://team.slack.com/archives/C1/p%d", 1000+e.Number)
	}
	out := "notification: " + bottest.AsShown(d.Text()) + "\n\n"
	for i, th := range d.ThreadTexts(link) {
		out += fmt.Sprintf("── thread reply %d ──\n%s\n", i+1, bottest.Wrap(bottest.AsShown(th), bottest.PhoneColumns))
		for _, p := range slacktest.TextProblems(fmt.Sprintf("thread reply %d", i+1), th) {
			t.Errorf("digest: %s", p)
		}
	}
	bottest.Golden(t, "digest.txt", out)
}
