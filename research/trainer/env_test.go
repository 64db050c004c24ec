package trainer

import (
	"slices"
	"testing"
)

func TestIsSecretEnv(t *testing.T) {
	secret := []string{
		"SLACK_BOT_TOKEN", "SLACK_CHANNEL", "slack_app_token", "OPENAI_API_KEY", "OPENAI_BASE_URL",
		"AUTORESEARCH_MODEL", "ANTHROPIC_API_KEY", "MY_SECRET_TOKEN", "HF_TOKEN", "GITHUB_TOKEN",
		"AWS_SECRET_ACCESS_KEY", "db_password", "WANDB_API_KEY", "SSH_PRIVATE_KEY",
		"GOOGLE_APPLICATION_CREDENTIALS", "Some_Token_X",
	}
	harmless := []string{
		"PATH", "HOME", "CUDA_VISIBLE_DEVICES", "PYTORCH_CUDA_ALLOC_CONF", "LANG", "UV_CACHE_DIR",
		"SLACKER", "XSLACK_X", "KEY", "API",
	}
	for _, k := range secret {
		if !IsSecretEnv(k) {
			t.Errorf("IsSecretEnv(%q) = false, want true", k)
		}
	}
	for _, k := range harmless {
		if IsSecretEnv(k) {
			t.Errorf("IsSecretEnv(%q) = true, want false", k)
		}
	}
	// TOKEN is a secret only as a whole word: training needs the tokenizer
	// knobs, while ACCESS_TOKEN-like names stay out.
	for _, k := range []string{"TOKENIZERS_PARALLELISM", "TIKTOKEN_CACHE_DIR"} {
		if IsSecretEnv(k) {
			t.Errorf("IsSecretEnv(%q) = true, want false", k)
		}
	}
	for _, k := range []string{"ACCESS_TOKEN", "token", "WANDB_TOKEN", "NPM_TOKENS"} {
		if !IsSecretEnv(k) {
			t.Errorf("IsSecretEnv(%q) = false, want true", k)
		}
	}
}

func TestScrubEnv(t *testing.T) {
	in := []string{"PATH=/usr/bin", "SLACK_BOT_TOKEN=x", "A=1=2", "malformed", "=weird", "OPENAI_API_KEY=sk", "B=", "HF_TOKEN=h"}
	got := ScrubEnv(in)
	want := []string{"PATH=/usr/bin", "A=1=2", "B="}
	if !slices.Equal(got, want) {
		t.Fatalf("ScrubEnv = %q, want %q", got, want)
	}
	if ScrubEnv(nil) == nil {
		t.Fatal("ScrubEnv(nil) must be an empty, non-nil environment (nil means 'inherit' to os/exec)")
	}
}
