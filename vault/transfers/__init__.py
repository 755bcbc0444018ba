"""Bytes in and out: encrypting uploads as they stream in, blob storage, decrypting downloads, their HTTP answers."""
