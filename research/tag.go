package research

import (
	"fmt"
	"regexp"
	"strings"
)

var tagPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,39}$`)

// TagRule is the rule for tags in words, repeated in every tag error.
const TagRule = "a tag is 1-40 characters: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit"

// ValidateTag checks that tag is a short lowercase name usable in the branch
// autoresearch/TAG, and says exactly what is wrong when it is not (an
// *InputError). The terminal, Slack and the CLI all check tags here.
func ValidateTag(tag string) error {
	bad := func(format string, a ...any) error { return &InputError{Msg: fmt.Sprintf(format, a...)} }
	switch {
	case tag == "":
		return bad("a run needs a tag, e.g. `mar20`; %s", TagRule)
	case len(tag) > 40:
		return bad("tag %q is %d characters long; %s", tag, len(tag), TagRule)
	case !tagPattern.MatchString(tag):
		msg := fmt.Sprintf("tag %q is invalid; %s", tag, TagRule)
		if low := strings.ToLower(tag); low != tag && ValidateTag(low) == nil {
			msg += fmt.Sprintf(" (try %q)", low)
		}
		return bad("%s", msg)
	case strings.Contains(tag, ".."):
		return bad("tag %q contains \"..\", which git does not allow in branch names", tag)
	case strings.HasSuffix(tag, ".lock"):
		return bad("tag %q ends with \".lock\", which git does not allow in branch names", tag)
	case strings.HasSuffix(tag, "."):
		return bad("tag %q ends with \".\", which git does not allow in branch names", tag)
	}
	return nil
}

// BranchName is the branch a run with this tag lives on.
func BranchName(tag string) string { return "autoresearch/" + tag }
