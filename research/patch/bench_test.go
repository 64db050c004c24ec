package patch

import "testing"

// benchFiles returns a 600-line train.py-like file and a version with a
// 5-line change (3 lines replaced, 2 added) in the middle.
func benchFiles(b *testing.B) (old, new string) {
	old = trainPy(600)
	new = replaceOnce(b, old,
		"        self.fc37 = nn.Linear(dim, 2 * dim)\n\n    def forward(self, x):\n        return x + self.fc37(x)\n",
		"        self.fc37 = nn.Linear(dim, 4 * dim)\n        self.norm = nn.LayerNorm(dim)\n\n    def forward(self, x):\n        x = self.norm(x)\n        return x + 0.5 * self.fc37(x)\n")
	return old, new
}

func BenchmarkDiff(b *testing.B) {
	old, new := benchFiles(b)
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		if p := Diff("train.py", old, new, 3); len(p.Hunks) != 1 {
			b.Fatalf("%d hunks", len(p.Hunks))
		}
	}
}

func BenchmarkApply(b *testing.B) {
	old, new := benchFiles(b)
	p := Diff("train.py", old, new, 3)
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		if got, err := Apply(old, p); err != nil || len(got) != len(new) {
			b.Fatal(err)
		}
	}
}

// BenchmarkApplyShifted applies the patch to a file with 50 lines inserted
// above the change, so the hunk is found by searching.
func BenchmarkApplyShifted(b *testing.B) {
	old, new := benchFiles(b)
	p := Diff("train.py", old, new, 3)
	shifted := trainPy(50)[len("import math\n"):] + old
	b.SetBytes(int64(len(old)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Apply(shifted, p); err != nil {
			b.Fatal(err)
		}
	}
}
