package bot

import (
	"testing"
	"time"

	"github.com/autoresearch/autoresearch/research"
)

func TestFormatProgress(t *testing.T) {
	cases := []struct {
		n    int
		p    research.Progress
		want string
	}{
		{3, research.Progress{Percent: 41, Loss: 3.21, Remaining: 177 * time.Second},
			"#3 [########............] 41%  loss 3.210  2m57s left"},
		{1, research.Progress{Percent: 0}, "#1 [....................]  0%"},
		{1, research.Progress{Percent: 100, Loss: 2.5}, "#1 [####################] 100%  loss 2.500"},
		{2, research.Progress{Percent: 130}, "#2 [####################] 100%"},
		{2, research.Progress{Percent: -5, Remaining: 4 * time.Second}, "#2 [....................]  0%  4s left"},
	}
	for _, c := range cases {
		if got := FormatProgress(c.n, c.p); got != c.want {
			t.Errorf("FormatProgress(%d, %+v)\n got %q\nwant %q", c.n, c.p, got, c.want)
		}
	}
}

func TestProgressGate(t *testing.T) {
	var g progressGate
	steps := []struct {
		n    int
		pct  float64
		want bool
	}{
		{1, 0.5, true}, {1, 3, false}, {1, 9.9, false}, {1, 10, true}, {1, 10.1, false},
		{1, 35, true}, {1, 36, false}, {1, 20, false}, // backwards never reprints
		{1, 100, true}, {1, 100, false},
		{2, 55, true}, {2, 59, false}, {2, 60, true}, // a new experiment starts over
		{1, 5, true}, // and so does going back to another number
	}
	for i, s := range steps {
		if got := g.allow(s.n, s.pct); got != s.want {
			t.Errorf("step %d: allow(%d, %v) = %v, want %v", i, s.n, s.pct, got, s.want)
		}
	}
}
