"""An nginx edge (or shield) in front of the origin: ``reelstack edge render|run``.

The edge checks the signed token of ``/s/<token>/<asset>/v<n>/<file>`` itself (bad: 403,
expired: 410, the origin never asked), then serves the file from its cache, filled in
1 MiB slices from its upstream (the origin, or a shield: the same config one tier up).
The cache key is ``<asset>/v<n>/<file>`` plus the slice, never the token, so every
session shares one copy; concurrent misses wait on one upstream request
(``proxy_cache_lock``). ``/v1/`` (API, keys, licences) passes through, never cached.

- ``md5`` tokens are checked by stock ``secure_link``/``secure_link_md5``;
- ``hmac`` tokens by the njs function in :data:`NJS_MODULE`, written beside the config as
  :data:`NJS_NAME` (the Debian ``libnginx-mod-http-js`` module, njs >= 0.7).

Both give the same answers as :meth:`reelstack.delivery.signing.Signer.verify`: the
location regex admits only canonical signatures (no slack bits in the last base64url
character), so a string the origin would refuse is refused here as well.
"""

from __future__ import annotations

import re
import string
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from reelstack.delivery.signing import Scheme

NJS_NAME = "reelstack-edge.js"
CONF_NAME = "nginx.conf"
PURGES_NAME = "purges.conf"
NJS_MODULE_SO = Path("/usr/lib/nginx/modules/ngx_http_js_module.so")
CA_FILE = Path("/etc/ssl/certs/ca-certificates.crt")

SECRET = re.compile(r"[A-Za-z0-9_-]{16,200}")
# Paths go into the config unquoted-safe: no spaces, quotes, ";", "$", braces or "#".
_SAFE_PATH = re.compile(r"/[A-Za-z0-9._/+@=,-]*")
_LISTEN = re.compile(r"(?:(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+|\*):)?[0-9]{1,5}")
_HOST = re.compile(r"[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\]")
_SIZE = re.compile(r"[1-9][0-9]*[kKmMgG]?")

# The token grammar of signing.TOKEN_PATTERN, with only canonical base64url signatures:
# MD5 is 16 bytes (22 characters, the last one's low 4 bits zero), HMAC-SHA256 32 bytes
# (43 characters, the last one's low 2 bits zero).
_SIGNATURE = {
    Scheme.MD5: r"[A-Za-z0-9_-]{21}[AQgw]",
    Scheme.HMAC: r"[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]",
}
_ASSET = r"[0-9a-f]{32}"
_VERSION = r"[1-9][0-9]{0,8}"
_FILE = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"


def _media_regex(scheme: Scheme) -> str:
    token = rf"(?<exp>[0-9]{{1,12}})\.(?<sid>[0-9a-f]{{32}})\.(?<sig>{_SIGNATURE[scheme]})"
    return rf"^/s/(?<token>{token})/(?<asset>{_ASSET})/v(?<ver>{_VERSION})/(?<file>{_FILE})$"


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")


class _Conf(string.Template):
    # nginx variables use "$": placeholders here are @{name}.
    delimiter = "@"


TEMPLATE = _Conf(
    """\
# Rendered by `reelstack edge render`; edit the flags, not this file.
@{load_module}@{user}worker_processes @{workers};
daemon @{daemon};
pid @{prefix}/nginx.pid;
error_log @{prefix}/logs/error.log warn;
@{stderr_log}
events {
    worker_connections 4096;
}

http {
    server_tokens off;
    sendfile on;
    tcp_nopush on;
    keepalive_timeout 65s;
    default_type application/octet-stream;

    client_body_temp_path @{prefix}/tmp/client_body;
    proxy_temp_path @{prefix}/tmp/proxy;
    fastcgi_temp_path @{prefix}/tmp/fastcgi;
    uwsgi_temp_path @{prefix}/tmp/uwsgi;
    scgi_temp_path @{prefix}/tmp/scgi;

    # The access log never holds a usable token: the signature is replaced by "-".
    map $request_uri $edge_log_uri {
        "~^/s/(?<log_exp>[0-9]*)\\.(?<log_sid>[0-9a-f]*)\\.[^/]*(?<log_rest>/.*)$"
            "/s/$log_exp.$log_sid.-$log_rest";
        "~^/s/[^/]*(?<log_tail>/.*)$" "/s/-$log_tail";
        default $request_uri;
    }
    log_format edge '$remote_addr [$time_local] "$request_method $edge_log_uri '
                    '$server_protocol" $status $body_bytes_sent rt=$request_time '
                    'cache=$upstream_cache_status urt=$upstream_response_time '
                    'upstream=$upstream_addr range="$http_range" "$http_user_agent"';
    access_log @{prefix}/logs/access.log edge@{log_buffer};

    # Cache hits open the same few thousand segment files over and over: keep their
    # descriptors (segments are immutable; a purge changes the cache key, not the file).
    open_file_cache max=10000 inactive=60s;
    open_file_cache_valid 60s;

    proxy_cache_path @{cache_dir} levels=1:2 keys_zone=reelstack_edge:64m
                     max_size=@{cache_max_size} inactive=30d use_temp_path=off;

    # Purges and revocations from the API's feed (`edge run --api-url`): a purge bumps
    # the asset's generation (its cached copies are no longer found), a revocation
    # refuses its URLs. Rewritten and reloaded by the edge's poller.
    include @{prefix}/@{purges_name};

    # Signed cookies (/m/...): a credentialed CORS answer, only for the listed origins
    # (REELSTACK_CORS_ALLOW_ORIGINS; "*" lists none: same-origin players only). Path
    # tokens (/s/...) need no credentials: any page may play them.
    map $http_origin $edge_cookie_origin {
        default "";
@{cookie_origins}    }
    map $request_uri $edge_allow_origin {
        "~^/m/" $edge_cookie_origin;
        default "*";
    }
    map $request_uri $edge_allow_credentials {
        "~^/m/" "true";
        default "";
    }
    map $request_uri $edge_vary {
        "~^/m/" "Origin";
        default "";
    }

    # Countries where nothing plays, by the trusted country header (403 at the edge,
    # 451 at the API).
    map $@{country_var} $geo_blocked {
        default 0;
@{blocked_countries}    }

    upstream reelstack_upstream {
        server @{upstream_hostport};
        keepalive 32;
    }
@{js_http}
    server {
        listen @{listen};

        location = /edge-health {
            default_type text/plain;
            return 200 "ok\\n";
        }

        # Signed media of one published version: immutable, cached for a year.
        # /s/<token: exp.sid.sig>/<asset>/v<ver>/<file>, in named captures.
        location ~ "@{media_re}" {
            default_type application/problem+json;
@{token_check}
            if ($url_token = "") {
                return 403 '@{problem_403}';
            }
            if ($url_token = "0") {
                return 410 '@{problem_410}';
            }
            if ($geo_blocked) {
                return 403 '@{problem_geo}';
            }
            if ($asset_revoked) {
                return 410 '@{problem_revoked}';
            }
            if ($request_method !~ ^(GET|HEAD)$) {
                return 405;
            }

            slice 1m;
            proxy_cache reelstack_edge;
            # Never the token: every session shares one copy of each slice.
            proxy_cache_key "$asset/v$ver/$file$slice_range:g$asset_generation";
            proxy_cache_valid 200 206 1y;
            # Only the rule above decides: an upstream error is never kept, whatever
            # its headers say (one cached 403 would refuse every viewer).
            # Vary (the origin's CORS middleware sends "Vary: Origin") is ignored too:
            # one copy serves web pages, apps and players alike; the CORS answer is the
            # edge's own (below).
            proxy_ignore_headers Cache-Control Expires X-Accel-Expires Vary;
            proxy_hide_header Vary;
            proxy_hide_header X-Request-ID;
            proxy_cache_lock on;
            proxy_cache_lock_timeout 10s;
            proxy_cache_lock_age 10s;
            proxy_cache_use_stale error timeout updating http_500 http_502 http_503 http_504;
            # Behind a shield the header lists both tiers, the shield's first: "HIT, MISS".
            add_header X-Cache-Status $upstream_cache_status always;
            # Signed media is for any player page: the same CORS answer whether the copy
            # in cache was first fetched with an Origin header or without (cookie-signed
            # requests: the listed origins, with credentials).
            proxy_hide_header Access-Control-Allow-Origin;
            proxy_hide_header Access-Control-Allow-Credentials;
            add_header Access-Control-Allow-Origin $edge_allow_origin always;
            add_header Access-Control-Allow-Credentials $edge_allow_credentials always;
            add_header Vary $edge_vary always;

            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host "@{upstream_host}";
            proxy_set_header Range $slice_range;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            # Built from the checked captures: the upstream re-checks the same token.
            proxy_pass @{upstream_scheme}://reelstack_upstream/s/$token/$asset/v$ver/$file;
@{upstream_tls}        }

        # Signed cookies: the same files for a player holding the version's cookie
        # (rs_media, Path=/m/<asset>/v<ver>/), checked and cached as the path form (one
        # cached copy for both): the cookie becomes the path's token, internally.
        location ~ "^/m/(?<c_asset>@{asset_re})/v(?<c_ver>@{ver_re})/(?<c_file>@{file_re})$" {
            default_type application/problem+json;
            if ($cookie_rs_media = "") {
                return 403 '@{problem_cookie}';
            }
            rewrite ^ /s/$cookie_rs_media/$c_asset/v$c_ver/$c_file last;
        }

        # Posters: public artwork (no token), cached like media.
        location ~ "^/media/(?<p_asset>@{asset_re})/v(?<p_ver>@{ver_re})/poster\\.jpg$" {
            if ($request_method !~ ^(GET|HEAD)$) {
                return 405;
            }
            proxy_cache reelstack_edge;
            proxy_cache_key "poster/$p_asset/v$p_ver";
            proxy_cache_valid 200 1y;
            proxy_ignore_headers Cache-Control Expires X-Accel-Expires Vary;
            proxy_hide_header Vary;
            proxy_hide_header X-Request-ID;
            proxy_cache_lock on;
            add_header X-Cache-Status $upstream_cache_status always;
            proxy_hide_header Access-Control-Allow-Origin;
            add_header Access-Control-Allow-Origin "*" always;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host "@{upstream_host}";
            proxy_pass @{upstream_scheme}://reelstack_upstream/media/$p_asset/v$p_ver/poster.jpg;
@{upstream_tls}        }

        # A path of the right shape with a token that is not one: refused as at origin.
        location ~ "^/s/[^/]*/@{asset_re}/v@{ver_re}/@{file_re}$" {
            default_type application/problem+json;
            return 403 '@{problem_403}';
        }

        # API, keys and licences: straight through, never cached, headers untouched
        # (the origin's Cache-Control: no-store reaches the player).
        location /v1/ {
            proxy_cache off;
            proxy_buffering off;
            proxy_request_buffering off;
            client_max_body_size 0;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host "@{upstream_host}";
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $host;
            proxy_pass @{upstream_scheme}://reelstack_upstream;
@{upstream_tls}        }

        location / {
            return 404;
        }
    }
}
"""
)

_MD5_CHECK = """\
            # stock nginx: "" for a bad hash, "0" when expired, "1" when good.
            secure_link $sig,$exp;
            secure_link_md5 "$exp/$asset/v$ver/$sid @{secret}";
            set $url_token $secure_link;"""

_HMAC_CHECK = """\
            # njs (edge.checkToken): "" for a bad signature, "0" when expired, "1" when good.
            set $url_token $edge_token;"""

_HMAC_HTTP = """
    js_import edge from @{njs_name};
    js_var $edge_signing_secret "@{secret}";
    js_set $edge_token edge.checkToken;
"""

_TLS = """\
            proxy_ssl_server_name on;
            proxy_ssl_name @{host};
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate @{ca_file};
"""

# The njs module that checks hmac tokens (a real .js file beside this one).
NJS_MODULE = Path(__file__).with_name("edge.js").read_text(encoding="utf-8")


def _problem(status: int, code: str, title: str, detail: str) -> str:
    # Single-quoted in the config: the JSON has no "'" nor "\\".
    return (
        f'{{"type":"https://reelstack.dev/problems/{code}","title":"{title}",'
        f'"status":{status},"code":"{code}","detail":"{detail}"}}'
    )


PROBLEM_403 = _problem(
    403, "invalid_url_token", "Forbidden", "the media URL is not signed for this file"
)
PROBLEM_410 = _problem(410, "url_token_expired", "Gone", "the media URL has expired")
PROBLEM_GEO = _problem(403, "region_blocked", "Forbidden", "not available in your region")
PROBLEM_COOKIE = _problem(
    403, "media_cookie_required", "Forbidden", "the signed media cookie is missing"
)
PROBLEM_REVOKED = _problem(410, "media_revoked", "Gone", "this media is no longer available")


@dataclass(frozen=True)
class Upstream:
    scheme: str
    host: str
    port: int

    @property
    def hostport(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else self.hostport


def parse_upstream(url: str) -> Upstream:
    """``http(s)://host[:port]`` (no path, query or credentials): an origin or shield."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError(f"bad port in upstream URL {url!r}") from exc
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    if (
        parts.scheme not in {"http", "https"}
        or _HOST.fullmatch(host) is None
        or parts.username is not None
        or parts.path not in {"", "/"}
        or parts.query
        or parts.fragment
    ):
        raise ValueError(f"upstream must be http(s)://host[:port] with no path: {url!r}")
    return Upstream(parts.scheme, host, port or (443 if parts.scheme == "https" else 80))


def _safe_path(path: Path, what: str) -> str:
    text = str(path)
    if _SAFE_PATH.fullmatch(text) is None:
        raise ValueError(
            f"{what} must be an absolute path of letters, digits and ._/+@=,- : {text!r}"
        )
    return text.rstrip("/") or "/"


@dataclass(frozen=True)
class EdgeConfig:
    """What an edge (or shield) needs. Paths must be absolute; ``prefix`` holds the pid
    file, logs/ and tmp/ (see :func:`prepare_prefix`) and is nginx's ``-p``."""

    origin: str
    cache_dir: Path
    listen: str
    scheme: Scheme
    secret: str
    prefix: Path
    shield: str | None = None
    daemon: bool = True
    # None: one worker per core.
    workers: int | None = None
    cache_max_size: str = "10g"
    # Worker processes' user when started as root (nginx's default then is "nobody").
    user: str | None = None
    # The trusted header with the viewer's country, and where nothing plays.
    country_header: str | None = None
    blocked_countries: tuple[str, ...] = ()
    js_module: Path = NJS_MODULE_SO
    ca_file: Path = CA_FILE
    # Access log lines are written in batches at most this many seconds old (0: each
    # request writes its own line, a write call per hit).
    log_flush_s: int = 1
    # Page origins allowed to send the signed media cookie cross-origin (exact
    # scheme://host[:port]); none: cookie-signed media plays on same-origin pages only.
    cookie_origins: tuple[str, ...] = ()


@dataclass(frozen=True)
class EdgeFiles:
    """The nginx.conf, and for hmac the njs module to write beside it as NJS_NAME."""

    conf: str
    njs: str | None


def render_edge(config: EdgeConfig) -> EdgeFiles:
    """The complete nginx.conf (and njs module) of an edge; ValueError on any parameter
    that could not be written into the config safely."""
    if SECRET.fullmatch(config.secret) is None:
        raise ValueError("the signing secret must be 16 to 200 letters, digits, '-' or '_'")
    scheme = Scheme(config.scheme)
    if _LISTEN.fullmatch(config.listen) is None:
        raise ValueError(f"listen must be host:port or a port: {config.listen!r}")
    if _SIZE.fullmatch(config.cache_max_size) is None:
        raise ValueError(f"bad cache size {config.cache_max_size!r} (e.g. 10g)")
    if config.workers is not None and config.workers < 1:
        raise ValueError("workers must be at least 1")
    if config.user is not None and re.fullmatch(r"[a-z_][a-z0-9_-]*", config.user) is None:
        raise ValueError(f"bad user name {config.user!r}")
    origins = sorted(set(config.cookie_origins))
    if any(_ORIGIN.fullmatch(origin) is None for origin in origins):
        raise ValueError(f"cookie origins must be scheme://host[:port]: {origins}")
    blocked = sorted({code.upper() for code in config.blocked_countries})
    if any(re.fullmatch(r"[A-Z]{2}", code) is None for code in blocked):
        raise ValueError(f"blocked countries must be ISO 3166 alpha-2 codes: {blocked}")
    prefix = _safe_path(config.prefix, "prefix")
    cache_dir = _safe_path(config.cache_dir, "cache dir")
    upstream = parse_upstream(config.shield or config.origin)
    if config.shield is not None:
        parse_upstream(config.origin)  # checked even though the shield is asked
    secret = config.secret
    tls = ""
    if upstream.scheme == "https":
        tls = _Conf(_TLS).substitute(
            host=upstream.host, ca_file=_safe_path(config.ca_file, "CA file")
        )
    if scheme is Scheme.MD5:
        load_module = ""
        js_http = ""
        token_check = _Conf(_MD5_CHECK).substitute(secret=secret)
    else:
        load_module = f"load_module {_safe_path(config.js_module, 'njs module')};\n"
        js_http = _Conf(_HMAC_HTTP).substitute(njs_name=NJS_NAME, secret=secret)
        token_check = _HMAC_CHECK
    conf = TEMPLATE.substitute(
        load_module=load_module,
        user=f"user {config.user};\n" if config.user else "",
        workers=config.workers or "auto",
        daemon="on" if config.daemon else "off",
        # In the foreground (a container, `edge run`), errors also go to stderr.
        stderr_log="" if config.daemon else "error_log stderr warn;\n",
        log_buffer=f" buffer=64k flush={config.log_flush_s}s" if config.log_flush_s else "",
        prefix=prefix,
        cache_dir=cache_dir,
        cache_max_size=config.cache_max_size,
        upstream_hostport=upstream.hostport,
        upstream_host=upstream.host_header,
        upstream_scheme=upstream.scheme,
        upstream_tls=tls,
        js_http=js_http,
        listen=config.listen,
        media_re=_media_regex(scheme),
        asset_re=_ASSET,
        ver_re=_VERSION,
        file_re=_FILE,
        token_check=token_check,
        problem_403=PROBLEM_403,
        problem_cookie=PROBLEM_COOKIE,
        cookie_origins="".join(f'        "{o}" $http_origin;\n' for o in origins),
        problem_410=PROBLEM_410,
        problem_revoked=PROBLEM_REVOKED,
        problem_geo=PROBLEM_GEO,
        country_var=_country_var(config.country_header),
        # Without a trusted header no country is known: nothing is blocked.
        blocked_countries="".join(
            f"        {code} 1;\n" for code in (blocked if config.country_header else [])
        ),
        purges_name=PURGES_NAME,
    )
    return EdgeFiles(conf=conf, njs=NJS_MODULE if scheme is Scheme.HMAC else None)


def _country_var(header: str | None) -> str:
    """The nginx variable of the country header (an unset one: never blocked)."""
    if header is None:
        return "http_x_reelstack_country"  # with no entries in the map (see render_edge)
    if re.fullmatch(r"[A-Za-z0-9-]{1,64}", header) is None:
        raise ValueError(f"bad country header name {header!r}")
    return "http_" + header.lower().replace("-", "_")


def prepare_prefix(config: EdgeConfig) -> None:
    """Make what nginx expects to exist: logs/, tmp/, the cache dir, and the purge maps
    (empty until a poller writes them)."""
    for path in (config.prefix / "logs", config.prefix / "tmp", config.cache_dir):
        path.mkdir(parents=True, exist_ok=True)
    purges = config.prefix / PURGES_NAME
    if not purges.exists():
        purges.write_text(render_purges({}, set()), encoding="utf-8")


def render_purges(generations: dict[str, int], revoked: set[str]) -> str:
    """The two maps the edge config includes: each asset's cache generation, and the
    revoked assets. Asset ids are checked (they are written into the config)."""
    for asset in (*generations, *revoked):
        if re.fullmatch(_ASSET, asset) is None:
            raise ValueError(f"not an asset id: {asset!r}")
    gens = "".join(f"    {a} {n};\n" for a, n in sorted(generations.items()))
    gone = "".join(f"    {a} 1;\n" for a in sorted(revoked))
    return (
        "# Written by the edge's purge poller.\n"
        f"map $asset $asset_generation {{\n    default 0;\n{gens}}}\n"
        f"map $asset $asset_revoked {{\n    default 0;\n{gone}}}\n"
    )


def write_edge(config: EdgeConfig, conf_path: Path) -> EdgeFiles:
    """Render into ``conf_path`` and, for hmac, NJS_NAME beside it (both mode 0600: they
    hold the secret); returns what was written."""
    files = render_edge(config)
    conf_path.parent.mkdir(parents=True, exist_ok=True)
    _write_private(conf_path, files.conf)
    if files.njs is not None:
        _write_private(conf_path.parent / NJS_NAME, files.njs)
    return files


def _write_private(path: Path, text: str) -> None:
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(text, encoding="utf-8")
