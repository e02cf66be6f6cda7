"""The baseline: a bare Flask endpoint served exactly like the gateway (same
gunicorn workers and threads), so the ratio shows what the CareerOS stack costs."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.get("/bare")
def bare():
    return jsonify({"user_id": "00000000-0000-0000-0000-000000000000", "headline": "bare"})


@app.patch("/bare")
def bare_patch():
    return jsonify({"ok": True})
