"""MiniWorld (extra: miniworld): 3D "go to the red box" navigation rendered with OpenGL.

- ``env``: the envs (the paper's Hallway, OneRoom, FourRooms, WallGap; any task by id);
- ``display``: headless OpenGL selection (EGL, else Xvfb), done before miniworld is imported;
- ``expert``: a shortest-path scripted expert for the go-to-box tasks;
- ``prompt``: the VL-DAC prompt and task strings.

Importing this package imports neither miniworld nor pyglet.
"""
