"""Writes agent.thought events as NDJSON to stdout at a steady rate, for `glassbox log append --stdin`.

    python3 pace.py RATE SECONDS BATCH > fifo   (prints how many it wrote on stderr)
"""
import json
import sys
import time

rate, seconds, batch = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
text = "Revenue per region is in sales.orders; sum Q2 and Q3 per region and compare. " * 4
line = json.dumps({"stream": "run/bench", "type": "agent.thought", "actor": "agent:analyst@user:bench",
                   "data": {"callId": "llm-1", "step": 1, "text": text}}) + "\n"
out = sys.stdout
written = 0
start = time.monotonic()
while True:
    elapsed = time.monotonic() - start
    if elapsed >= seconds:
        break
    due = int(elapsed * rate) // batch * batch
    if due > written:
        out.write(line * (due - written))
        out.flush()
        written = due
    time.sleep(0.002)
print(written, file=sys.stderr)
