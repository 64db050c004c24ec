package research

import (
	"fmt"
	"regexp"
	"strings"
)

var tagPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)

// ValidateTag checks that tag is a short lowercase name usable in the branch
// autoresearch/TAG, and says exactly what is wrong when it is not.
func ValidateTag(tag string) error {
	switch {
	case tag == "":
		return &InputError{Msg: "a run needs a tag, e.g. `mar20`"}
	case len(tag) > 40:
		return &InputError{Msg: fmt.Sprintf("tag %q is %d characters long; use at most 40", tag, len(tag))}
	case !tagPattern.MatchString(tag):
		return &InputError{Msg: fmt.Sprintf("tag %q is not valid: use lowercase letters, digits, '.', '_' and '-', starting with a letter or digit (e.g. mar20)", tag)}
	case strings.Contains(tag, ".."), strings.HasSuffix(tag, "."), strings.HasSuffix(tag, ".lock"):
		return &InputError{Msg: fmt.Sprintf("tag %q is not valid in a git branch name (no '..', no trailing '.' or '.lock')", tag)}
	}
	return nil
}

// BranchName is the branch a run with this tag lives on.
func BranchName(tag string) string { return "autoresearch/" + tag }
