package research

import (
	"slices"
	"testing"
)

func TestCondenseBackoffWaits(t *testing.T) {
	for _, tc := range []struct {
		name string
		// fail[i]: whether the try at the ith due history length fails;
		// the history grows by one experiment per proposal from 10.
		fail []bool
		upTo int // last history length asked about
		want []int
	}{
		{
			name: "never fails: tried before every proposal",
			fail: []bool{false, false, false, false},
			upTo: 13,
			want: []int{10, 11, 12, 13},
		},
		{
			name: "keeps failing: waits 1, 2, 4, 8, 16, 32 experiments",
			fail: []bool{true, true, true, true, true, true, true},
			upTo: 73,
			want: []int{10, 11, 13, 17, 25, 41, 73},
		},
		{
			name: "the wait is capped at 64 experiments",
			fail: []bool{true, true, true, true, true, true, true, true, true},
			upTo: 201,
			want: []int{10, 11, 13, 17, 25, 41, 73, 137, 201},
		},
		{
			name: "a success ends the streak: the next failure waits 1 again",
			fail: []bool{true, true, false, false, true, true},
			upTo: 17,
			want: []int{10, 11, 13, 14, 15, 16},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var b condenseBackoff
			var tried []int
			for n := 10; n <= tc.upTo; n++ {
				if !b.due(n) {
					continue
				}
				if len(tried) == len(tc.fail) {
					t.Fatalf("tried at %d beyond the %d scripted outcomes (tried %v)", n, len(tc.fail), tried)
				}
				failed := tc.fail[len(tried)]
				tried = append(tried, n)
				if failed {
					b.failed(n)
				} else {
					b.succeeded()
				}
			}
			if !slices.Equal(tried, tc.want) {
				t.Errorf("tried at history lengths %v, want %v", tried, tc.want)
			}
		})
	}
}

func TestCondenseBackoffReportsWaitsAndStreaks(t *testing.T) {
	var b condenseBackoff
	var waits []int
	for i := range 9 {
		waits = append(waits, b.failed(100+i))
	}
	if want := []int{1, 2, 4, 8, 16, 32, 64, 64, 64}; !slices.Equal(waits, want) {
		t.Errorf("waits = %v, want %v", waits, want)
	}
	if b.due(108+63) || !b.due(108+64) {
		t.Errorf("after the ninth failure at 108: due(171)=%v due(172)=%v, want false, true", b.due(171), b.due(172))
	}
	if got := b.succeeded(); got != 9 {
		t.Errorf("succeeded() = %d, want the streak of 9", got)
	}
	if got := b.succeeded(); got != 0 {
		t.Errorf("a second success reports a streak of %d, want 0", got)
	}
	if !b.due(0) {
		t.Error("not due after a success")
	}
}
