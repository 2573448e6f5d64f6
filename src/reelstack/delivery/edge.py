"""An nginx edge (or shield) in front of the origin: ``reelstack edge render|run``.

The edge checks the signed token of ``/s/<token>/<asset>/v<n>/<file>`` itself (bad: 403,
expired: 410, the origin never asked), then serves the file from its cache, filled in
1 MiB slices from its upstream (the origin, or a shield: the same config one tier up).
The cache key is ``<asset>/v<n>/<file>`` plus the slice, never the token, so every
session shares one copy; concurrent misses wait on one upstream request
(``proxy_cache_lock``). ``/v1/`` (the API) and a session's keys and licences
(``/s/<token>/<asset>/v<n>/keys/<kid>.key``, ``.../drm/<system>``: token checked here,
session at the origin) pass through, never cached.

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
_KEY_PATH = r"keys/[0-9a-f]{32}\.key|drm/[a-z0-9-]{1,32}"


def _token_regex(scheme: Scheme) -> str:
    return rf"(?<exp>[0-9]{{1,12}})\.(?<sid>[0-9a-f]{{32}})\.(?<sig>{_SIGNATURE[scheme]})"


def _media_regex(scheme: Scheme) -> str:
    token = _token_regex(scheme)
    return rf"^/s/(?<token>{token})/(?<asset>{_ASSET})/v(?<ver>{_VERSION})/(?<file>{_FILE})$"


def _keys_regex(scheme: Scheme) -> str:
    """HLS keys (``keys/<kid>.key``) and licences (``drm/<system>``) under the prefix."""
    token = _token_regex(scheme)
    return (
        rf"^/s/(?<token>{token})/(?<asset>{_ASSET})/v(?<ver>{_VERSION})/"
        rf"(?<kpath>{_KEY_PATH})$"
    )


_ORIGIN = re.compile(r"https?://[A-Za-z0-9.-]{1,253}(:[0-9]{1,5})?")


class _Conf(string.Template):
    # nginx variables use "$": placeholders here are @{name}.
    delimiter = "@"


# The nginx.conf template (a real file beside this one, shipped as package data):
# @{name} placeholders, filled by render_edge.
TEMPLATE = _Conf(Path(__file__).with_name("edge.conf.in").read_text(encoding="utf-8"))

_MD5_CHECK = """\
            # stock nginx: "" for a bad hash, "0" when expired, "1" when good.
            secure_link $sig,$exp;
            secure_link_md5 "$exp/$asset/v$ver/$sid @{secret}";
            set $url_token $secure_link;"""

# The token check and the refusals of every signed location (media, keys, licences).
_REFUSALS = """\
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
"""

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
        keys_re=_keys_regex(scheme),
        cookie_re=(
            rf"^/m/(?<c_asset>{_ASSET})/v(?<c_ver>{_VERSION})/(?<c_file>{_FILE}|{_KEY_PATH})$"
        ),
        asset_re=_ASSET,
        ver_re=_VERSION,
        file_re=_FILE,
        refusals=_Conf(_REFUSALS).substitute(
            token_check=token_check,
            problem_403=PROBLEM_403,
            problem_410=PROBLEM_410,
            problem_revoked=PROBLEM_REVOKED,
            problem_geo=PROBLEM_GEO,
        ),
        problem_403=PROBLEM_403,
        problem_cookie=PROBLEM_COOKIE,
        cookie_origins="".join(f'        "{o}" $http_origin;\n' for o in origins),
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
