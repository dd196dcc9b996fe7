#!/bin/sh
# Creates the catalog's topics (compose/kafka/topics.txt: "<name> <partitions>" per line).
# The broker runs with auto.create.topics.enable=false, so this is the only way topics appear.
set -eu
while read -r name partitions; do
  [ -z "$name" ] && continue
  /opt/kafka/bin/kafka-topics.sh --bootstrap-server kafka:29092 --create --if-not-exists \
    --topic "$name" --partitions "$partitions" --replication-factor 1
done < /topics/topics.txt
/opt/kafka/bin/kafka-topics.sh --bootstrap-server kafka:29092 --list
