#!/usr/bin/env python3
"""Writes a batch of 1000 ~200-byte events (the seed of the load scripts) to argv[1]."""
import json
import sys

EVENT = {"type": "order.created",
         "data": {"order_id": "ord-000123", "customer": "cust-42",
                  "items": [{"sku": "A-1", "qty": 2, "price": 19.99},
                            {"sku": "B-7", "qty": 1, "price": 5.5}],
                  "total": 45.48}}

with open(sys.argv[1], "w") as out:
    out.write(json.dumps([EVENT] * 1000, separators=(",", ":")))
