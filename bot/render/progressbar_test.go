package render

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
