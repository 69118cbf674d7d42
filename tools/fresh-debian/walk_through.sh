#!/usr/bin/env bash
# The README's "walk through with curl", against a server a user just started with `make run`:
# a product, an order for two of it, the order read back with the acknowledgement's token, the
# user's orders and the product's stock. Each step prints what it checked; the first answer that
# is not what the README shows fails the script.
#
#   tools/fresh-debian/walk_through.sh [PORT]    PORT defaults to 8080, where `make run` serves
#
# Needs curl and jq. Uses a new SKU and user each run, so a data dir that already holds orders
# still passes.
set -euo pipefail
base="http://127.0.0.1:${1:-8080}"
key() { cat /proc/sys/kernel/random/uuid; }
fail() { echo "walk-through: $*" >&2; exit 1; }
sku="sku-$(key | cut -c1-8)"
user="0190a1b2-0000-7000-8000-$(key | tr -d - | cut -c1-12)"
headers=$(mktemp) body=$(mktemp)
trap 'rm -f "$headers" "$body"' EXIT

call() {  # METHOD PATH [JSON] [extra curl args...]: sets $status; the answer in $body, $headers
  local method=$1 path=$2 json=${3:-}
  shift $(( $# >= 3 ? 3 : 2 ))
  local args=(-sS --max-time 10 -X "$method" -D "$headers" -o "$body" -w '%{http_code}' "$base$path" "$@")
  [[ -n $json ]] && args+=(-H 'Content-Type: application/json' -H "Idempotency-Key: $(key)" -d "$json")
  status=$(curl "${args[@]}") || fail "$method $path: curl could not reach $base"
}
expect() {  # STATUS what
  [[ $status == "$1" ]] || fail "$2: HTTP $status, expected $1: $(cat "$body")"
  echo "ok  $2 ($status)"
}

call PUT "/v1/products/$sku" '{"name":"Mug","currency":"EUR","priceMinor":1250,"stock":100}'
expect 202 "PUT /v1/products/$sku"

call POST /v1/orders "{\"userId\":\"$user\",\"currency\":\"EUR\",\"items\":[{\"sku\":\"$sku\",\"qty\":2}]}"
expect 202 "POST /v1/orders"
order=$(jq -r .orderId "$body") || fail "the acknowledgement is not JSON: $(cat "$body")"
token=$(jq -r .consistencyToken "$body")
[[ $(jq -r .status "$body") == accepted && -n $order && $token == ct1.* ]] ||
  fail "the acknowledgement is not the README's: $(cat "$body")"
grep -qi "^Location: /v1/orders/$order" "$headers" || fail "no Location: /v1/orders/$order"
grep -qi "^X-Consistency-Token: $token" "$headers" || fail "no X-Consistency-Token header"

call GET "/v1/orders/$order" "" -H "X-Consistency-Token: $token"
expect 200 "GET /v1/orders/$order with the token"
[[ $(jq -r '.orderId, (.items | length), .items[0].sku, .items[0].qty' "$body" 2>/dev/null | paste -sd' ') == "$order 1 $sku 2" ]] ||
  fail "the order read back is not the one placed: $(cat "$body")"

call GET "/v1/users/$user/orders?limit=10"
expect 200 "GET /v1/users/$user/orders"
jq -e --arg o "$order" '[.orders[].orderId] == [$o]' "$body" >/dev/null ||
  fail "the user's orders are not [$order]: $(cat "$body")"

call GET "/v1/products/$sku" "" -H "X-Consistency-Token: $token"
expect 200 "GET /v1/products/$sku"
[[ $(jq -r .stock "$body" 2>/dev/null) == 98 ]] || fail "stock is not 100 - 2: $(cat "$body")"
echo "walk-through: the README's steps answer as it shows"
