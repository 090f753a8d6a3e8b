# The nginx configurations our warm-hit figures are measured against (sourced by loadtest/run.sh and
# benches/warm/run.sh), listening on loopback only:
#   tuned  the peer at its best for static files: sendfile, no access log, open file cache,
#          unlimited keep-alive requests (the default);
#   stock  Debian's /etc/nginx/nginx.conf http settings: sendfile and tcp_nopush, an access log line
#          per request (imgcloud logs every request too, by default), no open file cache, nginx's
#          default of 1000 requests per keep-alive connection.
#   write_nginx_conf DIR PORT ROOT [tuned|stock]  ->  DIR/nginx.conf (DIR/logs and DIR/tmp are created)
write_nginx_conf() {
  local dir="$1" port="$2" root="$3" profile="${4:-tuned}" tuning
  mkdir -p "$dir/logs" "$dir/tmp"
  case "$profile" in
    tuned) tuning="access_log off;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=100;" ;;
    stock) tuning="access_log $dir/logs/access.log;" ;;
    *) echo "write_nginx_conf: unknown profile $profile" >&2; return 1 ;;
  esac
  cat > "$dir/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  sendfile on;
  tcp_nopush on;
  $tuning
  default_type application/octet-stream;
  types { image/webp webp; image/jpeg jpg; }
  client_body_temp_path $dir/tmp/body;
  proxy_temp_path $dir/tmp/proxy;
  fastcgi_temp_path $dir/tmp/fastcgi;
  uwsgi_temp_path $dir/tmp/uwsgi;
  scgi_temp_path $dir/tmp/scgi;
  server { listen 127.0.0.1:$port; root $root; location / { try_files \$uri =404; } }
}
CONF
}
