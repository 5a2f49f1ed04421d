"""Noise_XX_25519_ChaChaPoly_SHA256: the handshake that secures TCP sessions.

A direct implementation of the Noise Protocol Framework (revision 34) for the
one pattern we use, XX:
    -> e
    <- e, ee, s, es
    -> s, se
Both sides authenticate with static X25519 keys (each device's key), and every
message after the first is encrypted. The primitives are `cryptography`'s
X25519, ChaCha20-Poly1305 and HMAC-SHA256; nothing here is a new construction.
tests/sync/test_noise.py checks it against an independent implementation
(`noiseprotocol`, fixed keys: handshake messages byte for byte, both roles,
transport both ways, tampering refused) and checks HKDF, MixKey, the initial
hash and the nonce encoding against the spec. The cacophony test vector for this
protocol (tests/data/cacophony_xx_vectors.json) and three fixed transcripts
made once with that implementation (tests/data/noise_xx_vectors.json) replay
byte for byte.
"""

from __future__ import annotations

import hashlib
import hmac

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives import serialization

PROTOCOL_NAME = b"Noise_XX_25519_ChaChaPoly_SHA256"
DHLEN = 32
HASHLEN = 32
TAGLEN = 16
MAX_MESSAGE = 65535
MAX_NONCE = 2**64 - 1


class NoiseError(Exception):
    """The handshake or a transport message failed: drop the connection."""


def _public(key: X25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _dh(private: X25519PrivateKey, public: bytes) -> bytes:
    try:
        return private.exchange(X25519PublicKey.from_public_bytes(public))
    except ValueError as exc:  # all-zero shared secret: a low-order point
        raise NoiseError("bad public key") from exc


def _hkdf(chaining_key: bytes, material: bytes, outputs: int) -> tuple[bytes, ...]:
    temp = hmac.new(chaining_key, material, hashlib.sha256).digest()
    out1 = hmac.new(temp, b"\x01", hashlib.sha256).digest()
    out2 = hmac.new(temp, out1 + b"\x02", hashlib.sha256).digest()
    if outputs == 2:
        return out1, out2
    return out1, out2, hmac.new(temp, out2 + b"\x03", hashlib.sha256).digest()


class CipherState:
    def __init__(self, key: bytes | None = None) -> None:
        self.key = key
        self.nonce = 0

    def _nonce(self) -> bytes:
        if self.nonce >= MAX_NONCE:
            raise NoiseError("nonce exhausted")
        return b"\x00\x00\x00\x00" + self.nonce.to_bytes(8, "little")

    def encrypt(self, ad: bytes, plaintext: bytes) -> bytes:
        if self.key is None:
            return plaintext
        out = ChaCha20Poly1305(self.key).encrypt(self._nonce(), plaintext, ad)
        self.nonce += 1
        return out

    def decrypt(self, ad: bytes, ciphertext: bytes) -> bytes:
        if self.key is None:
            return ciphertext
        try:
            out = ChaCha20Poly1305(self.key).decrypt(self._nonce(), ciphertext, ad)
        except InvalidTag:
            raise NoiseError("message failed authentication") from None
        self.nonce += 1
        return out


class _Symmetric:
    def __init__(self, prologue: bytes) -> None:
        short = len(PROTOCOL_NAME) <= HASHLEN
        self.h = PROTOCOL_NAME.ljust(HASHLEN, b"\x00") if short else hashlib.sha256(PROTOCOL_NAME).digest()
        self.ck = self.h
        self.cipher = CipherState()
        self.mix_hash(prologue)

    def mix_hash(self, data: bytes) -> None:
        self.h = hashlib.sha256(self.h + data).digest()

    def mix_key(self, material: bytes) -> None:
        self.ck, key = _hkdf(self.ck, material, 2)
        self.cipher = CipherState(key)

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        ciphertext = self.cipher.encrypt(self.h, plaintext)
        self.mix_hash(ciphertext)
        return ciphertext

    def decrypt_and_hash(self, ciphertext: bytes) -> bytes:
        plaintext = self.cipher.decrypt(self.h, ciphertext)
        self.mix_hash(ciphertext)
        return plaintext

    def split(self) -> tuple[CipherState, CipherState]:
        first, second = _hkdf(self.ck, b"", 2)
        return CipherState(first), CipherState(second)


class Handshake:
    """One side of an XX handshake. Call write/read in turn; then `split`.

    The initiator writes messages 1 and 3, the responder message 2. After the
    third message both sides know `remote_static` and can `transport()`.
    """

    def __init__(self, initiator: bool, static: X25519PrivateKey, prologue: bytes = b"",
                 ephemeral: X25519PrivateKey | None = None) -> None:
        self.initiator = initiator
        self.s = static
        self.e = ephemeral or X25519PrivateKey.generate()
        self.re: bytes | None = None
        self.remote_static: bytes | None = None
        self.sym = _Symmetric(prologue)
        self.step = 0

    @property
    def done(self) -> bool:
        return self.step == 3

    def _expect(self, writing: bool) -> None:
        my_turn = (self.step % 2 == 0) == self.initiator
        if self.done or my_turn != writing:
            raise NoiseError("handshake message out of turn")

    def _their_ephemeral(self) -> bytes:
        if self.re is None:  # never: _expect lets us write only after the message that carries it
            raise NoiseError("handshake message out of turn")
        return self.re

    def write(self, payload: bytes = b"") -> bytes:
        self._expect(writing=True)
        sym, out = self.sym, bytearray()
        if self.step == 0:
            out += _public(self.e)
            sym.mix_hash(_public(self.e))
        elif self.step == 1:
            out += _public(self.e)
            sym.mix_hash(_public(self.e))
            sym.mix_key(_dh(self.e, self._their_ephemeral()))
            out += sym.encrypt_and_hash(_public(self.s))
            sym.mix_key(_dh(self.s, self._their_ephemeral()))
        else:
            out += sym.encrypt_and_hash(_public(self.s))
            sym.mix_key(_dh(self.s, self._their_ephemeral()))
        out += sym.encrypt_and_hash(payload)
        self.step += 1
        if len(out) > MAX_MESSAGE:
            raise NoiseError("handshake message too large")
        return bytes(out)

    def read(self, message: bytes) -> bytes:
        self._expect(writing=False)
        if len(message) > MAX_MESSAGE:
            raise NoiseError("handshake message too large")
        sym, pos = self.sym, 0

        def take(count: int) -> bytes:
            nonlocal pos
            if pos + count > len(message):
                raise NoiseError("handshake message truncated")
            chunk = message[pos : pos + count]
            pos += count
            return chunk

        if self.step == 0:
            self.re = take(DHLEN)
            sym.mix_hash(self.re)
        elif self.step == 1:
            self.re = take(DHLEN)
            sym.mix_hash(self.re)
            sym.mix_key(_dh(self.e, self.re))
            self.remote_static = sym.decrypt_and_hash(take(DHLEN + TAGLEN))
            sym.mix_key(_dh(self.e, self.remote_static))
        else:
            self.remote_static = sym.decrypt_and_hash(take(DHLEN + TAGLEN))
            sym.mix_key(_dh(self.e, self.remote_static))
        payload = sym.decrypt_and_hash(message[pos:])
        self.step += 1
        return payload

    @property
    def handshake_hash(self) -> bytes:
        return self.sym.h

    def transport(self) -> tuple[CipherState, CipherState]:
        """(send, receive) cipher states for after the handshake."""
        if not self.done:
            raise NoiseError("handshake not finished")
        first, second = self.sym.split()
        return (first, second) if self.initiator else (second, first)
