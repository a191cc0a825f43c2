import sys

from dlcc.cli import main

sys.exit(main())
