#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ (checked in; rerun after changing this file).

Seeds are valid requests from docs/design.md plus edge cases around every documented limit. The input
layout of each target is described at the top of its .cpp file and in fuzz/README.md.
"""
import base64
import json
import os
import shutil

HERE = os.path.dirname(os.path.abspath(__file__))
KEY = "3f2504e0-4f89-41d3-9a0c-0305e82c3301"
KEY2 = "9b2f7c1e-0a4d-4c55-8f00-1234567890ab"
ORDER = "0190f0a4-6b3c-7d2e-8f10-112233445566"
USER = "0190a1b2-0000-7000-8000-0000000000aa"


def b64u(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def token(entries) -> str:
    return "ct1." + b64u(";".join(entries).encode())


def write(target, seeds):
    d = os.path.join(HERE, "corpus", target)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    for name, data in seeds.items():
        if isinstance(data, str):
            data = data.encode()
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)


def j(obj) -> str:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


# ---- fuzz_command_json: <selector><target>\n[<key>\n]<body> ------------------------------------
# selector: '@' upsert, 'A' place, 'B' pay, 'C' ship, 'D' cancel; +0x10 ('P'..'T') = key header.
product = {"name": "Mug", "currency": "EUR", "priceMinor": 1250, "stock": 100}
place = {"userId": USER, "currency": "EUR", "items": [{"sku": "sku-1", "qty": 2}]}
command = {
    "upsert_header": f"Psku-1\n{KEY}\n" + j(product),
    "upsert_body_key": "@sku-1\n" + j(dict(product, idempotencyKey=KEY)),
    "upsert_stock_null": f"PA.b_c-9\n{KEY.upper()}\n" + j(dict(product, stock=None)),
    "upsert_bad_sku": f"Psku/1\n{KEY}\n" + j(product),
    "upsert_unicode_name": f"Psku-1\n{KEY}\n" + j(dict(product, name="caf\u00e9 \u2615 \U0001F600")),
    "upsert_escaped_name": f"Psku-1\n{KEY}\n" + '{"name":"\\u00e9\\ud83d\\ude00","currency":"EUR","priceMinor":0,"stock":0}',
    "upsert_wrong_types": f"Psku-1\n{KEY}\n" + '{"name":1,"currency":"eur","priceMinor":1.0,"stock":"5"}',
    "upsert_int_limits": f"Psku-1\n{KEY}\n" + '{"name":"x","currency":"EUR","priceMinor":9223372036854775807,"stock":9223372036854775808}',
    "upsert_negative": f"Psku-1\n{KEY}\n" + '{"name":"x","currency":"EUR","priceMinor":-1,"stock":-9223372036854775808}',
    "place_header": f"Q\n{KEY}\n" + j(place),
    "place_body_key": "A\n" + j(dict(place, idempotencyKey=KEY)),
    "place_keys_differ": f"Q\n{KEY}\n" + j(dict(place, idempotencyKey=KEY2)),
    "place_many_items": f"Q\n{KEY}\n" + j(dict(place, items=[{"sku": f"s{i}", "qty": 10000} for i in range(100)])),
    "place_101_items": f"Q\n{KEY}\n" + j(dict(place, items=[{"sku": f"s{i}", "qty": 1} for i in range(101)])),
    "place_dup_sku": f"Q\n{KEY}\n" + j(dict(place, items=[{"sku": "a", "qty": 1}, {"sku": "a", "qty": 2}])),
    "place_bad_items": f"Q\n{KEY}\n" + '{"userId":"nope","currency":"EURO","items":[1,{"sku":"","qty":0},{"qty":10001,"x":null}]}',
    "place_no_items": f"Q\n{KEY}\n" + '{"userId":"' + USER.upper() + '","currency":"EUR","items":[]}',
    "pay": f"R{ORDER}\n{KEY}\n" + j({"expectedVersion": 1, "paymentRef": "pay-123", "amountMinor": 2500}),
    "pay_null_version": f"R{ORDER.upper()}\n{KEY}\n" + j({"expectedVersion": None, "paymentRef": "p", "amountMinor": 0}),
    "pay_bad_target": f"Rnot-a-uuid\n{KEY}\n" + j({"paymentRef": "p", "amountMinor": 1}),
    "ship_empty_body": f"S{ORDER}\n{KEY}\n",
    "ship_whitespace": f"S{ORDER}\n{KEY}\n \r\n\t",
    "ship_version": f"C{ORDER}\n" + j({"expectedVersion": 0, "idempotencyKey": KEY}),
    "cancel": f"T{ORDER}\n{KEY}\n" + j({"expectedVersion": 2, "reason": "customer request"}),
    "cancel_long_reason": f"T{ORDER}\n{KEY}\n" + j({"reason": "\u00e9" * 501}),
    "dup_members": f"Q\n{KEY}\n" + '{"userId":"' + USER + '","userId":"' + USER + '","currency":"EUR","items":[]}',
    "deep_nesting": f"Psku-1\n{KEY}\n" + '{"name":' + "[" * 40 + "]" * 40 + "}",
    "not_object": f"Psku-1\n{KEY}\n[1,2,3]",
    "trailing_garbage": f"Psku-1\n{KEY}\n" + j(product) + "x",
    "lone_surrogate": f"Psku-1\n{KEY}\n" + '{"name":"\\ud800","currency":"EUR","priceMinor":1,"stock":1}',
    "invalid_utf8": b"Psku-1\n" + KEY.encode() + b'\n{"name":"\xc3\x28\xff","currency":"EUR","priceMinor":1,"stock":1}',
    "huge_number": f"Psku-1\n{KEY}\n" + '{"name":"x","currency":"EUR","priceMinor":1e400,"stock":123456789012345678901234567890}',
    "bad_key_header": f"Psku-1\n{KEY[:-1]}\n" + j(product),
}
write("fuzz_command_json", command)

# ---- fuzz_event_json: 'E'<envelope> | 'D'<type>\n<data> | 'L'<lines> ---------------------------
stock_changes = [{"sku": "sku-1", "stock": 98, "stockSeq": 2}, {"sku": "free", "stock": None, "stockSeq": 1}]
datas = {
    "ProductUpserted": {"sku": "sku-1", "name": "Mug", "currency": "EUR", "priceMinor": 1250, "stock": 100, "stockSeq": 1},
    "OrderPlaced": {"userId": USER, "currency": "EUR", "items": [{"sku": "sku-1", "qty": 2, "unitPriceMinor": 1250}],
                    "totalMinor": 2500, "stockChanges": stock_changes},
    "OrderPaid": {"paymentRef": "pay-123", "amountMinor": 2500},
    "OrderShipped": {},
    "OrderCancelled": {"reason": "customer request", "stockChanges": stock_changes},
}
events = {}
for i, (typ, data) in enumerate(datas.items()):
    stream_type = "product" if typ == "ProductUpserted" else "order"
    env = {"eventId": "0190f0a4-0000-7000-8000-00000000000%d" % i, "type": typ, "streamType": stream_type,
           "streamId": "sku-1" if stream_type == "product" else ORDER, "version": i + 1,
           "occurredAt": "2026-01-02T03:04:05.678Z", "causationId": KEY, "schemaVersion": 1, "data": data}
    events[f"envelope_{typ}"] = "E" + j(env)
    events[f"data_{typ}"] = f"D{typ}\n" + j(data)
events["envelope_mismatch"] = "E" + events["envelope_OrderPaid"][1:].replace('"order"', '"product"')
events["envelope_schema2"] = "E" + events["envelope_OrderShipped"][1:].replace('"schemaVersion":1', '"schemaVersion":2')
events["envelope_version0"] = "E" + events["envelope_OrderShipped"][1:].replace('"version":4', '"version":0')
events["envelope_float"] = "E" + events["envelope_OrderPaid"][1:].replace('"amountMinor":2500', '"amountMinor":2500.0')
events["envelope_unknown_field"] = "E" + events["envelope_OrderShipped"][1:-1] + ',"extra":true}'
events["envelope_big_int"] = "E" + events["envelope_OrderPaid"][1:].replace('"amountMinor":2500', '"amountMinor":18446744073709551615')
events["envelope_deep"] = "E" + '{"data":' + "[" * 2000 + "]" * 2000 + "}"
events["data_unknown_type"] = "DOrderRefunded\n{}"
events["lines"] = "L" + j([{"sku": "a", "qty": 1, "unitPriceMinor": 5}, {"sku": "b\u00e9", "qty": -1, "unitPriceMinor": -9223372036854775808}])
events["lines_empty"] = "L[]"
events["lines_not_array"] = 'L{"sku":"a"}'
write("fuzz_event_json", events)

# ---- fuzz_consistency_token: the header value (also tried as a token's decoded payload) --------
entries_o = f"o:{ORDER}@3"
entries_p = "p:sku-1@2"
tokens = {
    "one_order": token([entries_o]),
    "one_product": token([entries_p]),
    "both": token([entries_o, entries_p]),
    "merged_header": token([entries_o]) + ", " + token([f"o:{ORDER}@5", entries_p]),
    "spaces_tabs": " \t" + token([entries_p]) + " \t,\t " + token([entries_o]) + " ",
    "upper_uuid": token([f"o:{ORDER.upper()}@1"]),
    "max_version": token(["p:a@9223372036854775807"]),
    "overflow_version": token(["p:a@9223372036854775808"]),
    "zero_version": token(["p:a@0"]),
    "leading_zero": token(["p:a@01"]),
    "many_streams": token([f"p:s{i}@1" for i in range(257)]),
    "sku_with_at": token(["p:a@b@3"]),
    "empty_payload": "ct1.",
    "bad_base64": "ct1.!!!!",
    "non_canonical_tail": "ct1.AB",
    "empty_entry": token([entries_p, ""]),
    "raw_payload": f"{entries_o};{entries_p}",
    "raw_payload_bad": "x:abc@1;p:@1;o:1234@2",
    "trailing_comma": token([entries_p]) + ",",
}
write("fuzz_consistency_token", tokens)

# ---- fuzz_order_cursor: the cursor text (also tried as a cursor's decoded payload) -------------
good_cursor_raw = f"2026-01-02T03:04:05.678Z|{ORDER}"
cursors = {
    "valid": b64u(good_cursor_raw.encode()),
    "valid_raw": good_cursor_raw,
    "upper_uuid": b64u(f"2026-01-02T03:04:05.678Z|{ORDER.upper()}".encode()),
    "short_time": b64u(f"2026-01-02T03:04:05Z|{ORDER}".encode()),
    "no_bar": b64u(f"2026-01-02T03:04:05.678Z{ORDER}".encode()),
    "two_bars": b64u(f"2026-01-02T03:04:05.678Z|{ORDER}|x".encode()),
    "padded": b64u(good_cursor_raw.encode()) + "==",
    "bad_chars": "abc+/def",
    "mod4_is_1": "abcde",
    "too_long": "A" * 260,
    "binary_time": b64u(b"\x00" * 24 + b"|" + ORDER.encode()),
}
write("fuzz_order_cursor", cursors)

# ---- fuzz_http_request: raw HTTP/1.1 bytes, up to four pipelined requests ----------------------
def req(method, target, headers=(), body=""):
    body_b = body.encode() if isinstance(body, str) else body
    lines = [f"{method} {target} HTTP/1.1", "Host: localhost"]
    lines += [f"{k}: {v}" for k, v in headers]
    if body_b or method in ("POST", "PUT"):
        lines.append(f"Content-Length: {len(body_b)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body_b


JSON = ("Content-Type", "application/json")
AUTH = ("Authorization", "Bearer s3cret")
IK = ("Idempotency-Key", KEY)
tok = token([entries_o, entries_p])
pay_body = j({"expectedVersion": 1, "paymentRef": "pay-123", "amountMinor": 2500})
http = {
    "put_product": req("PUT", "/v1/products/sku-1", [JSON, IK, AUTH], j(product)),
    "put_product_no_auth": req("PUT", "/v1/products/sku-1", [JSON, IK], j(product)),
    "put_product_bad_auth": req("PUT", "/v1/products/sku%2D1", [JSON, IK, ("Authorization", "bearer  wrong ")], j(product)),
    "place_order": req("POST", "/v1/orders", [("Content-Type", "application/json; charset=utf-8"), IK], j(place)),
    "place_then_repeat_then_reuse": req("POST", "/v1/orders", [JSON, IK], j(place))
    + req("POST", "/v1/orders", [JSON, ("Idempotency-Key", KEY.upper())], j(place))
    + req("POST", "/v1/orders", [JSON, IK], j(dict(place, currency="USD")))
    + req("POST", "/v1/orders", [JSON, IK], '{"userId":1}'),
    "pay": req("POST", f"/v1/orders/{ORDER}/pay", [JSON, IK], pay_body),
    "pay_bad_id": req("POST", "/v1/orders/nope/pay", [JSON, IK], pay_body),
    "ship_no_body": req("POST", f"/v1/orders/{ORDER}/ship", [IK]),
    "ship_body_no_ctype": req("POST", f"/v1/orders/{ORDER}/ship", [IK], "{}"),
    "cancel_key_in_body": req("POST", f"/v1/orders/{ORDER}/cancel", [("Content-Type", "application/merge-patch+json")],
                              j({"reason": "changed mind", "idempotencyKey": KEY})),
    "cancel_wrong_ctype": req("POST", f"/v1/orders/{ORDER}/cancel", [("Content-Type", "text/plain"), IK], "x"),
    "two_key_headers": req("POST", f"/v1/orders/{ORDER}/ship", [IK, ("Idempotency-Key", KEY2)]),
    "chunked": (f"POST /v1/orders/{ORDER}/pay HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                f"Idempotency-Key: {KEY}\r\nTransfer-Encoding: chunked\r\n\r\n"
                f"{len(pay_body[:10]):x}\r\n{pay_body[:10]}\r\n{len(pay_body[10:]):x}\r\n{pay_body[10:]}\r\n0\r\n\r\n").encode(),
    "expect_continue": req("POST", "/v1/orders", [JSON, IK, ("Expect", "100-continue")], j(place)),
    "get_order_token": req("GET", f"/v1/orders/{ORDER}", [("X-Consistency-Token", tok), ("X-Consistency-Wait-Ms", "0")]),
    "get_order_future_token": req("GET", f"/v1/orders/{ORDER}", [("X-Consistency-Token", token([f"o:{ORDER}@99"])),
                                                                ("X-Consistency-Wait-Ms", "99999999999999999999")]),
    "get_order_bad_headers": req("GET", f"/v1/orders/{ORDER.upper()}", [("X-Consistency-Token", "ct1.!"), ("X-Consistency-Wait-Ms", "-1")]),
    "get_order_missing": req("GET", "/v1/orders/ffffffff-0000-7000-8000-000000000000"),
    "get_order_store_fails": req("GET", "/v1/orders/00000000-0000-7000-8000-000000000000"),
    "user_orders": req("GET", f"/v1/users/{USER}/orders?limit=2&cursor=" + b64u(good_cursor_raw.encode())),
    "user_orders_bad_query": req("GET", f"/v1/users/{USER}/orders?limit=0&cursor=%zz&limit=101&x=+%20"),
    "user_orders_empty_cursor": req("GET", f"/v1/users/{USER}/orders?cursor=&limit=100"),
    "get_product": req("GET", "/v1/products/sku-1", [("X-Consistency-Token", token([entries_p]))]),
    "get_product_fail": req("GET", "/v1/products/fail-1"),
    "get_product_bad_sku": req("GET", "/v1/products/a%20b"),
    "ops": req("GET", "/healthz") + req("GET", "/readyz") + req("GET", "/metrics") + req("GET", "/openapi.json"),
    "admin": req("GET", "/v1/admin/status", [AUTH]) + req("POST", "/v1/admin/projections/rebuild", [AUTH])
    + req("POST", "/v1/admin/projections/rebuild") + req("GET", "/v1/admin/status", [("Authorization", "Basic czNjcmV0")]),
    "dead_letters": req("GET", "/v1/admin/dead-letters?limit=1000", [AUTH]) + req("GET", "/v1/admin/dead-letters?limit=0", [AUTH])
    + req("POST", "/v1/admin/dead-letters/retry", [AUTH]) + req("POST", "/v1/admin/dead-letters/3/retry", [AUTH]),
    "dead_letter_ids": req("POST", "/v1/admin/dead-letters/4/retry", [AUTH])
    + req("POST", "/v1/admin/dead-letters/9999999999999999999/retry", [AUTH])
    + req("POST", "/v1/admin/dead-letters/%31%32/retry", [AUTH]) + req("GET", "/v1/admin/dead-letters"),
    "method_not_allowed": req("DELETE", f"/v1/orders/{ORDER}") + req("PATCH", "/v1/products/x") + req("FOO", "/healthz"),
    "not_found": req("GET", "/") + req("GET", "/v1/orders/x/y/z/w") + req("GET", "/" + "a/" * 20) + req("GET", "/v1/orders/?x"),
    "http10": b"GET /healthz HTTP/1.0\r\n\r\n",
    "absolute_target": b"GET http://localhost/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
}
write("fuzz_http_request", http)
print("seeds written:", {t: len(s) for t, s in
                         [("command", command), ("event", events), ("token", tokens), ("cursor", cursors), ("http", http)]})
