"""Chats with the assistant: messages, attachments, voice recordings."""
