package trainer

import "strings"

// secretPrefixes name whole families of variables the bot itself uses; none
// of them is the training script's business.
var secretPrefixes = []string{"SLACK_", "OPENAI_", "AUTORESEARCH_", "ANTHROPIC_"}

// secretWords mark a variable as a credential wherever they appear in its
// name (HF_TOKEN, AWS_SECRET_ACCESS_KEY, DB_PASSWORD, GOOGLE_APPLICATION_CREDENTIALS).
var secretWords = []string{"TOKEN", "SECRET", "PASSWORD", "API_KEY", "PRIVATE_KEY", "CREDENTIAL"}

// IsSecretEnv reports whether an environment variable must be kept from the
// training process. The training script is code an LLM wrote: it gets no
// credentials. Matching is case-insensitive.
func IsSecretEnv(key string) bool {
	upper := strings.ToUpper(key)
	for _, p := range secretPrefixes {
		if strings.HasPrefix(upper, p) {
			return true
		}
	}
	for _, w := range secretWords {
		if w == "TOKEN" {
			continue
		}
		if strings.Contains(upper, w) {
			return true
		}
	}
	// TOKEN counts as a whole word only (HF_TOKEN, GITHUB_TOKEN, TOKEN_FILE),
	// so TOKENIZERS_PARALLELISM and TIKTOKEN_CACHE_DIR, which training
	// scripts need, pass through.
	for _, part := range strings.FieldsFunc(upper, func(r rune) bool { return r == '_' || r == '-' || r == '.' }) {
		if part == "TOKEN" || part == "TOKENS" {
			return true
		}
	}
	return false
}

// ScrubEnv returns env ("KEY=value" entries) without the secrets IsSecretEnv
// names, in the same order. Malformed entries without '=' are dropped.
func ScrubEnv(env []string) []string {
	return filterEnv(env, func(key string) bool { return !IsSecretEnv(key) })
}

// filterEnv keeps the entries whose key keep accepts.
func filterEnv(env []string, keep func(key string) bool) []string {
	out := make([]string, 0, len(env))
	for _, kv := range env {
		key, _, ok := strings.Cut(kv, "=")
		// Entries such as "=C:=C:\\" (Windows) have an empty key; drop them too.
		if !ok || key == "" || !keep(key) {
			continue
		}
		out = append(out, kv)
	}
	return out
}
