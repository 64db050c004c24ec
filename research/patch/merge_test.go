package patch

import (
	"errors"
	"testing"
)

func TestMerge3(t *testing.T) {
	base := "LR = 0.04\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512\n"
	cases := []struct {
		name, ours, theirs, want string
		conflict                 bool
	}{
		{"adjacent lines both kept", "LR = 0.03\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512\n", "LR = 0.04\nWARMUP = 20\nDEPTH = 8\nWIDTH = 512\n",
			"LR = 0.03\nWARMUP = 20\nDEPTH = 8\nWIDTH = 512\n", false},
		{"same line differently", "LR = 0.03\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512\n", "LR = 0.05\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512\n", "", true},
		{"same change twice", "LR = 0.03\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512\n", "LR = 0.03\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512\n",
			"LR = 0.03\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512\n", false},
		{"insertion elsewhere", "LR = 0.04\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512\nNEW = 1\n", "LR = 0.05\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512\n",
			"LR = 0.05\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512\nNEW = 1\n", false},
		{"insertions at one place", "X = 1\n" + base, "Y = 2\n" + base, "", true},
		{"deletion and edit far apart", "WARMUP = 10\nDEPTH = 8\nWIDTH = 512\n", "LR = 0.04\nWARMUP = 10\nDEPTH = 8\nWIDTH = 1024\n",
			"WARMUP = 10\nDEPTH = 8\nWIDTH = 1024\n", false},
		{"no trailing newline kept", "LR = 0.04\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512", "LR = 0.05\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512\n",
			"LR = 0.05\nWARMUP = 10\nDEPTH = 8\nWIDTH = 512", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Merge3(base, tc.ours, tc.theirs)
			var ce *ConflictError
			if tc.conflict {
				if !errors.As(err, &ce) {
					t.Fatalf("want a conflict, got %q, %v", got, err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}
