# img-cloud behind Varnish 7 (Debian 12's varnish 7.1): shared caching of public and signed images,
# one cache entry per f_auto Accept class, purge by the asset's cache tag. See deploy/README.md.
vcl 4.1;

import std;

# imgcloud's listen address (server.listen). tests/api/cdn_varnish.rs rewrites these two lines.
backend default {
    .host = "127.0.0.1";
    .port = "8080";
}

# Who may send PURGE and BAN: imgcloud's purger ([cdn_purge] kind = "http") runs on this host.
acl purgers {
    "127.0.0.1";
    "::1";
}

sub vcl_recv {
    if (req.method == "PURGE" || req.method == "BAN") {
        if (client.ip !~ purgers) {
            return (synth(403, "Forbidden"));
        }
        # Tags come space-separated in Surrogate-Key (Fastly style) or comma-separated in Cache-Tag
        # (Cloudflare style); imgcloud's tags are img-<16 hex>.
        if (req.http.Surrogate-Key) {
            set req.http.X-Purge-Tags = req.http.Surrogate-Key;
        } else if (req.http.Cache-Tag) {
            set req.http.X-Purge-Tags = req.http.Cache-Tag;
        } else if (req.method == "PURGE") {
            # A PURGE without tags drops this one URL, as plain Varnish setups expect.
            return (purge);
        } else {
            return (synth(400, "BAN needs a Surrogate-Key or Cache-Tag header"));
        }
        set req.http.X-Purge-Tags = regsuball(req.http.X-Purge-Tags, "[ ,]+", " ");
        set req.http.X-Purge-Tags = regsub(req.http.X-Purge-Tags, "^ ?(.*?) ?$", "\1");
        # Tags become part of a regex below: only plain tokens are allowed in.
        if (req.http.X-Purge-Tags !~ "^[A-Za-z0-9_.:-]+( [A-Za-z0-9_.:-]+)*$") {
            return (synth(400, "Bad tag list"));
        }
        set req.http.X-Purge-Tags = regsuball(req.http.X-Purge-Tags, " ", "|");
        # Bans on obj.* only, so the ban lurker can clear them in the background; a ban applies to
        # lookups at once. Token boundaries keep img-ab from matching img-abc.
        # (No spaces inside the regex: the ban parser splits its arguments on them.)
        if (!std.ban("obj.http.Surrogate-Key ~ (^|[\s,])(" + req.http.X-Purge-Tags + ")([\s,]|$)")
            || !std.ban("obj.http.Cache-Tag ~ (^|[\s,])(" + req.http.X-Purge-Tags + ")([\s,]|$)")) {
            return (synth(500, std.ban_error()));
        }
        return (synth(200, "Banned"));
    }

    if (req.url ~ "^/v1/image/") {
        # f_auto answers with Vary: Accept. Rewriting Accept to its class's canonical header
        # (engine/src/accept.rs, AutoFormat::canonical_accept) leaves at most three variants per URL
        # instead of one per distinct browser string. The tests compare this reading with the
        # server's on every Accept they send (tests/api/cdn_varnish.rs); the server's rules:
        # case-insensitive types, an explicit image/avif or image/webp entry (wildcards never
        # count), and any q of zero or less for that type is a refusal that wins.
        std.collect(req.http.Accept, ",");
        if (req.http.Accept ~ "(?i)(^|,)\s*image/avif\s*(;|,|$)"
            && req.http.Accept !~ "(?i)(^|,)\s*image/avif\s*;([^,;]*;)*\s*q\s*=\s*(\+?(0+(\.0*)?|\.0+)(e[+-]?[0-9]+)?|-(([0-9]+(\.[0-9]*)?|\.[0-9]+)(e[+-]?[0-9]+)?|inf|infinity))\s*(;|,|$)") {
            set req.http.Accept = "image/avif";
        } else if (req.http.Accept ~ "(?i)(^|,)\s*image/webp\s*(;|,|$)"
            && req.http.Accept !~ "(?i)(^|,)\s*image/webp\s*;([^,;]*;)*\s*q\s*=\s*(\+?(0+(\.0*)?|\.0+)(e[+-]?[0-9]+)?|-(([0-9]+(\.[0-9]*)?|\.[0-9]+)(e[+-]?[0-9]+)?|inf|infinity))\s*(;|,|$)") {
            set req.http.Accept = "image/webp";
        } else {
            set req.http.Accept = "*/*";
        }
    }
    # No return: the builtin vcl_recv follows, and it passes every request carrying Authorization
    # or Cookie (owner credentials) and every method other than GET and HEAD.
}

sub vcl_backend_response {
    if (bereq.url ~ "[?&]sig=") {
        # A signed URL's max-age is the time it has left; no grace or keep, so Varnish never serves
        # it (or revalidates it) after it expires: the next request reaches the server, which says 403.
        set beresp.grace = 0s;
        set beresp.keep = 0s;
    }
    if (beresp.status >= 400) {
        # Errors come with Cache-Control: no-store (the builtin makes them uncacheable); should one
        # come without, it lives a few seconds at most.
        if (beresp.ttl > 5s) {
            set beresp.ttl = 5s;
        }
        set beresp.grace = 0s;
    }
    # The builtin follows: private, no-store, no-cache and Set-Cookie responses are never cached.
}

sub vcl_deliver {
    if (obj.hits > 0) {
        set resp.http.X-Cache = "HIT";
    } else {
        set resp.http.X-Cache = "MISS";
    }
}
