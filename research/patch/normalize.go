package patch

import (
	"crypto/sha256"
	"encoding/hex"
	"sort"
	"strconv"
	"strings"
)

// Normalize returns a canonical form of p's change for repeat detection:
// the removed and added lines of all hunks, in order, one per line as
// "-text" or "+text", with every run of whitespace in the text collapsed to
// one space and leading and trailing whitespace dropped; changed lines that
// are blank after this are left out, as are context lines, hunk headers,
// NoNewline markers and the path. So two patches that differ only in
// context, in hunk boundaries or in the whitespace or indentation of their
// changed lines normalize equally, while a change to any non-blank text of
// a changed line does not.
func Normalize(p FilePatch) string {
	var b strings.Builder
	for _, h := range p.Hunks {
		for _, l := range h.Lines {
			if l == "" || (l[0] != '-' && l[0] != '+') {
				continue
			}
			text := strings.Join(strings.Fields(l[1:]), " ")
			if text == "" {
				continue
			}
			b.WriteByte(l[0])
			b.WriteString(text)
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// Fingerprint returns the hex SHA-256 of the patches' normalized forms,
// taken in order of path (stable for equal paths), each with its path.
// Patches that normalize to "" (no change, or only blank lines changed) are
// left out, so the fingerprint of no change is that of the empty input.
func Fingerprint(patches []FilePatch) string {
	sorted := make([]FilePatch, len(patches))
	copy(sorted, patches)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	h := sha256.New()
	for _, p := range sorted {
		n := Normalize(p)
		if n == "" {
			continue
		}
		// Length-prefixed, so that no path/body split is ambiguous.
		h.Write([]byte(strconv.Itoa(len(p.Path)) + ":" + p.Path + strconv.Itoa(len(n)) + ":" + n))
	}
	return hex.EncodeToString(h.Sum(nil))
}
