"""Shapes of /consent."""

from __future__ import annotations

from rest_framework import serializers


class ConsentGrantSerializer(serializers.Serializer):
    version = serializers.CharField(max_length=32, required=False)


class ConsentRevokeQuerySerializer(serializers.Serializer):
    delete_data = serializers.BooleanField(required=False, default=False)


class ConsentHistorySerializer(serializers.Serializer):
    action = serializers.ChoiceField(choices=["grant", "revoke"])
    version = serializers.CharField()
    at = serializers.DateTimeField()
    data_deleted = serializers.BooleanField()


class ConsentSerializer(serializers.Serializer):
    granted = serializers.BooleanField()
    version = serializers.CharField(allow_null=True)
    granted_at = serializers.DateTimeField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    history = ConsentHistorySerializer(many=True)
