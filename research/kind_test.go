package research_test

import (
	"strings"
	"testing"

	"github.com/autoresearch/autoresearch/research"
)

// The kind, not the description, says what an experiment was for.
func TestKindGroupsAndRoles(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		kind     research.Kind
		desc     string
		baseline bool
		change   bool
		role     research.Role
	}{
		{research.KindBaseline, "baseline", true, false, research.RoleBaseline},
		{research.KindBaselineRepeat, "baseline (repeat 1/2)", true, false, research.RoleBaselineRepeat},
		{research.KindProposal, "baseline (repeat 1/2)", false, true, research.RoleChange},
		{research.KindFix, "depth 16, fixed", false, true, research.RoleChange},
		{research.KindRetry, "retry #4: depth 16", false, true, research.RoleChange},
		{research.KindConfirmation, "depth 16", false, false, research.RoleConfirmation},
	} {
		if !c.kind.Valid() || c.kind.Check() != nil {
			t.Errorf("%q is not valid: %v", c.kind, c.kind.Check())
		}
		if c.kind.IsBaseline() != c.baseline || c.kind.IsChange() != c.change {
			t.Errorf("%q: baseline %v change %v, want %v %v", c.kind, c.kind.IsBaseline(), c.kind.IsChange(), c.baseline, c.change)
		}
		if got := research.RoleOf(research.Experiment{Kind: c.kind, Description: c.desc}); got != c.role {
			t.Errorf("RoleOf(%q, %q) = %q, want %q", c.kind, c.desc, got, c.role)
		}
	}
	for _, k := range []research.Kind{"", "Baseline", "baseline repeat"} {
		if k.Valid() {
			t.Errorf("%q is valid", k)
		}
		if err := k.Check(); err == nil || !strings.Contains(err.Error(), "is not one of baseline, baseline_repeat, proposal, confirmation, retry, fix") {
			t.Errorf("Check(%q) = %v", k, err)
		}
	}
}
