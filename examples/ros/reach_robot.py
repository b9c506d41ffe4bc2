#!/usr/bin/python3
"""A simulated robot for the multimodal reaching task, as a real ROS 1 node (rospy).

Subscribes /robot/cmd (geometry_msgs/Twist: linear.x, linear.y in [-1, 1]), publishes /robot/state
(geometry_msgs/Point: x, y) at 10 Hz, and stops (zero velocity) when commands stop arriving for 0.5 s.
Same dynamics as reach-obstacle-v1. Prints "SUCCESS <steps>" when it reaches the goal.
Run with Debian's /usr/bin/python3 (rospy lives there).
"""
import math
import sys

import rospy
from geometry_msgs.msg import Point, Twist
from std_srvs.srv import Trigger, TriggerResponse

START = (0.0, -0.8)
GOAL = (0.0, 0.8)
OBST = (0.0, 0.0, 0.35)
GOAL_R = 0.1
MAX_SPEED = 0.06


class Robot:
    def __init__(self):
        self.p = list(START)
        self.cmd = (0.0, 0.0)
        self.last_cmd = rospy.get_time()
        self.steps = 0
        self.done = False

    def on_cmd(self, msg):
        self.cmd = (max(-1.0, min(1.0, msg.linear.x)), max(-1.0, min(1.0, msg.linear.y)))
        self.last_cmd = rospy.get_time()

    def reset(self, _req):
        self.__init__()
        return TriggerResponse(success=True, message="reset")

    def step(self):
        vx, vy = self.cmd if rospy.get_time() - self.last_cmd < 0.5 else (0.0, 0.0)
        x, y = self.p[0] + vx * MAX_SPEED, self.p[1] + vy * MAX_SPEED
        dx, dy = x - OBST[0], y - OBST[1]
        d = math.hypot(dx, dy)
        if d < OBST[2]:  # the obstacle blocks: back onto its boundary
            x, y = (OBST[0] + dx * OBST[2] / d, OBST[1] + dy * OBST[2] / d) if d > 1e-9 else (OBST[0], OBST[1] - OBST[2])
        self.p = [max(-1.0, min(1.0, x)), max(-1.0, min(1.0, y))]
        self.steps += 1
        if not self.done and math.hypot(self.p[0] - GOAL[0], self.p[1] - GOAL[1]) < GOAL_R:
            self.done = True
            print("SUCCESS %d" % self.steps, flush=True)


def main():
    rospy.init_node("reach_robot")
    robot = Robot()
    rospy.Subscriber("/robot/cmd", Twist, robot.on_cmd, queue_size=1)
    pub = rospy.Publisher("/robot/state", Point, queue_size=1)
    rospy.Service("/robot/reset", Trigger, robot.reset)
    rate = rospy.Rate(10)
    print("READY", flush=True)
    while not rospy.is_shutdown():
        robot.step()
        pub.publish(Point(x=robot.p[0], y=robot.p[1], z=0.0))
        rate.sleep()


if __name__ == "__main__":
    try:
        main()
    except rospy.ROSInterruptException:
        sys.exit(0)
