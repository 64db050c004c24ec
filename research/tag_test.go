package research

import (
	"strings"
	"testing"
)

func TestValidateTag(t *testing.T) {
	t.Parallel()
	good := []string{"mar20", "a", "0", "run-1.2_b", strings.Repeat("a", 40), "a.b", "x-lock"}
	for _, tag := range good {
		if err := ValidateTag(tag); err != nil {
			t.Errorf("ValidateTag(%q) = %v, want nil", tag, err)
		}
	}
	bad := map[string]string{
		"":                      "a run needs a tag",
		strings.Repeat("a", 41): "is 41 characters long",
		"Mar20":                 `(try "mar20")`,
		"-x":                    "starting with a letter or digit",
		".x":                    "starting with a letter or digit",
		"_x":                    "starting with a letter or digit",
		"a/b":                   "lowercase letters, digits",
		"a b":                   "lowercase letters, digits",
		"é":                     "lowercase letters, digits",
		"a..b":                  `contains ".."`,
		"x.lock":                `ends with ".lock"`,
		"x.":                    `ends with "."`,
		"MAR..20":               "lowercase letters", // no suggestion: the lowercase form is invalid too
	}
	for tag, want := range bad {
		err := ValidateTag(tag)
		if err == nil {
			t.Errorf("ValidateTag(%q) = nil, want an error", tag)
			continue
		}
		if !strings.Contains(err.Error(), want) {
			t.Errorf("ValidateTag(%q) = %q, want it to mention %q", tag, err, want)
		}
	}
	if err := ValidateTag("MAR..20"); err != nil && strings.Contains(err.Error(), "try") {
		t.Errorf("ValidateTag(MAR..20) suggests an invalid tag: %v", err)
	}
}

func TestValidateTagIsAnInputError(t *testing.T) {
	t.Parallel()
	if err := ValidateTag("Bad/Tag"); !IsInputError(err) {
		t.Errorf("ValidateTag error %T is not an *InputError: the CLI would not exit 2", err)
	}
}
