# The nginx configuration our warm-hit figures are measured against (sourced by loadtest/run.sh and
# benches/warm/run.sh): the peer at its best for static files (sendfile, no access log, open file
# cache, unlimited keep-alive), listening on loopback only.
#   write_nginx_conf DIR PORT ROOT  ->  DIR/nginx.conf (DIR/logs and DIR/tmp are created)
write_nginx_conf() {
  local dir="$1" port="$2" root="$3"
  mkdir -p "$dir/logs" "$dir/tmp"
  cat > "$dir/nginx.conf" <<CONF
worker_processes auto;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_timeout 65;
  keepalive_requests 1000000;
  open_file_cache max=100;
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
