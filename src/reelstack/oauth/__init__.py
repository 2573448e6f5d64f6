"""OAuth 2 authorization server (Authlib) for other clients: authorization code with
PKCE (S256 only), the device authorization grant (RFC 8628) for TVs, refresh, OpenID
Connect discovery, ID tokens and userinfo. Tokens are the accounts domain's own (one
login session per grant), so every guard treats an OAuth client like the web app."""
