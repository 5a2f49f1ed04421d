"""Writes noise_xx_vectors.json from noiseprotocol: `python tests/data/make_noise_vectors.py > tests/data/noise_xx_vectors.json`."""
import json
from noise.connection import Keypair, NoiseConnection
NAME = b"Noise_XX_25519_ChaChaPoly_SHA256"
out = []
for n, prologue in enumerate([b"circle/session/1", b"", b"John Galt"]):
    keys = {k: bytes((n * 40 + i + off) % 256 for i in range(32)) for k, off in
            (("init_static", 1), ("init_ephemeral", 33), ("resp_static", 65), ("resp_ephemeral", 97))}
    def conn(initiator):
        c = NoiseConnection.from_name(NAME)
        c.set_as_initiator() if initiator else c.set_as_responder()
        c.set_keypair_from_private_bytes(Keypair.STATIC, keys["init_static" if initiator else "resp_static"])
        c.set_keypair_from_private_bytes(Keypair.EPHEMERAL, keys["init_ephemeral" if initiator else "resp_ephemeral"])
        c.set_prologue(prologue)
        c.start_handshake()
        return c
    i, r = conn(True), conn(False)
    messages = []
    payloads = [b"", b"", b""] if n == 0 else [b"hello", b"from the responder", b"last handshake payload"]
    for step, payload in enumerate(payloads):
        w, rd = (i, r) if step % 2 == 0 else (r, i)
        ct = bytes(w.write_message(payload))
        assert bytes(rd.read_message(ct)) == payload
        messages.append({"payload": payload.hex(), "ciphertext": ct.hex()})
    for k in range(4):
        payload = b"transport %d" % k
        w, rd = (i, r) if k % 2 == 0 else (r, i)
        ct = bytes(w.encrypt(payload))
        assert bytes(rd.decrypt(ct)) == payload
        messages.append({"payload": payload.hex(), "ciphertext": ct.hex()})
    out.append({"protocol_name": NAME.decode(), "prologue": prologue.hex(),
                **{k: v.hex() for k, v in keys.items()},
                "handshake_hash": bytes(i.get_handshake_hash()).hex(), "messages": messages})
print(json.dumps({"generated_by": "noiseprotocol 0.3.1 (an independent implementation), fixed keys",
                  "transport_first": "initiator", "vectors": out}, indent=1))
