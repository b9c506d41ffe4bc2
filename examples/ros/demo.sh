#!/usr/bin/env bash
# Run a policy against a real ROS 1 robot node through rosbridge, all on this machine:
#   rosmaster  ←→  examples/ros/reach_robot.py (rospy)  ←→  scd bridge (rosbridge v2 over WebSocket)  ←→  scd run
# Needs Debian's ROS 1 (see docs/ros.md). For a real robot, skip the first three steps and point --ros at its
# rosbridge_server (ws://robot:9090) with a topic map for its topics.
set -euo pipefail
cd "$(dirname "$0")/../.."
export ROS_MASTER_URI=http://127.0.0.1:11311 ROS_IP=127.0.0.1 ROS_HOME=${ROS_HOME:-/tmp/scd-ros} ROS_LOG_DIR=${ROS_HOME:-/tmp/scd-ros}
mkdir -p "$ROS_HOME"
rosmaster --core -p 11311 & MASTER=$!
trap 'kill $ROBOT $BRIDGE $MASTER 2>/dev/null || true' EXIT
sleep 2
/usr/bin/python3 examples/ros/reach_robot.py & ROBOT=$!
npx scd bridge --master "$ROS_MASTER_URI" --port 9090 & BRIDGE=$!
sleep 3
# the scripted expert; a trained checkpoint works the same: --policy runs/reach-scd/checkpoint
npx scd run --policy "${POLICY:-expert}" --env reach-obstacle-v1 --ros ws://127.0.0.1:9090 --map examples/ros/reach_map.json --duration "${DURATION:-20}"
