package agent

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// DefaultBaseURL is OpenAI's API, used when OPENAI_BASE_URL is not set.
const DefaultBaseURL = "https://api.openai.com/v1"

// CheckEndpoint asks an OpenAI-compatible endpoint for its models (one
// small GET /models) and reports whether model is listed. Errors say what
// to fix: an unreachable host, a refused key, a wrong base URL.
func CheckEndpoint(ctx context.Context, client *http.Client, baseURL, apiKey, model string) (listed bool, err error) {
	if baseURL == "" {
		baseURL = DefaultBaseURL
	}
	url := strings.TrimRight(baseURL, "/") + "/models"
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false, fmt.Errorf("OPENAI_BASE_URL %q is not a URL: %v", baseURL, err)
	}
	if apiKey != "" {
		req.Header.Set("Authorization", "Bearer "+apiKey)
	}
	resp, err := client.Do(req)
	if err != nil {
		return false, fmt.Errorf("cannot reach %s: %v: check OPENAI_BASE_URL and the network", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		return false, fmt.Errorf("GET %s: %s: the endpoint refused OPENAI_API_KEY; set a valid key", url, resp.Status)
	case resp.StatusCode != http.StatusOK:
		return false, fmt.Errorf("GET %s: %s %s: check OPENAI_BASE_URL (it should end in /v1 for most servers)", url, resp.Status, snippet(body))
	}
	return model == "" || strings.Contains(string(body), `"`+model+`"`), nil
}
